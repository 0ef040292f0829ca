import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { mapLimit } from '@deploysphere/build-worker/concurrency';
import { putPresigned } from '@deploysphere/build-worker/presigned-http';
import type { HashedFile } from '@deploysphere/build-worker/upload';
import {
  CLI_DEPLOY_PATHS,
  CLI_EXIT_CODES,
  CliDeployCreatedSchema,
  retryWithBackoff,
  type CliDeployCreated,
  type CliDeployResult,
  type DeploymentView,
} from '@deploysphere/contracts';
import type { ApiClient } from './api-client.js';
import { CliError } from './errors.js';
import { hashFolder, manifestFiles } from './folder.js';
import { LandedReporter } from './landed-reporter.js';
import { readLink, requireProject, writeLink } from './link.js';
import { endUpload, putRetry, uploadWithHeartbeat } from './upload-session.js';
import type { Output } from './output.js';

export interface DeployOptions {
  dir: string;
  prod: boolean;
  project?: string | undefined;
  regions?: string[] | undefined;
  /** PUTs in flight per region. */
  concurrency: number;
}

/** Files read into memory below this size (a retry resends the buffer); larger ones stream. */
const BUFFER_LIMIT = 8 * 1024 * 1024;

/**
 * `deploysphere deploy --prebuilt`: hash the folder, send the manifest, upload exactly the blobs
 * each region lacks, then finalize (docs/cli.md). Returns what `--json` prints.
 */
export async function deployPrebuilt(
  api: ApiClient,
  out: Output,
  opts: DeployOptions,
): Promise<CliDeployResult> {
  const folder = await hashFolder(opts.dir, out);
  const linked = await readLink(folder.root);
  const project = requireProject(opts.project, linked);
  if (folder.files.length === 0) throw CliError.usage(`${opts.dir} has no files to deploy`);
  out.info(
    `Deploying ${folder.files.length} files (${formatBytes(folder.bytes)}) to ${project} as ${opts.prod ? 'production' : 'a preview'}`,
  );

  const created = await api.post(CLI_DEPLOY_PATHS.create, CliDeployCreatedSchema, {
    slug: project,
    target: opts.prod ? 'production' : 'preview',
    ...(opts.regions && opts.regions.length > 0 ? { regions: opts.regions } : {}),
    files: manifestFiles(folder.files),
    redirects: folder.redirects,
    headers: folder.headers,
  });
  if (linked !== project) await writeLink(folder.root, project);
  const id = created.deployment.id;
  if (created.projectCreated) out.info(`Created project ${project} (no repository: CLI deployments only)`);
  for (const r of created.regions)
    out.info(
      `${r.region}: ${r.present} of ${created.blobs} blobs already stored, ${r.missing.length} to upload`,
    );

  // What landed stays: blobs are content-addressed, so the next run skips them.
  const reporter = new LandedReporter(api, id, out);
  const uploaded = await uploadWithHeartbeat(
    api,
    id,
    'Run the deploy again: blobs already stored are not sent again',
    async () => {
      try {
        return await uploadMissing(created, folder.files, out, opts.concurrency, reporter);
      } finally {
        await reporter.close();
      }
    },
  );
  for (const u of uploaded) out.info(`${u.region}: uploaded ${u.blobs} blobs (${formatBytes(u.bytes)})`);

  out.info('Activating…');
  // Ended meanwhile (the watchdog, a cancel from elsewhere): a failed deploy, exit 6.
  const view = await endUpload(api, CLI_DEPLOY_PATHS.finalize(id), id);
  const result = {
    deployment: view,
    projectCreated: created.projectCreated,
    files: folder.files.length,
    blobs: created.blobs,
    uploaded,
  };
  if (view.status !== 'ready') throw deployFailed(view, result);
  return result;
}

async function uploadMissing(
  created: CliDeployCreated,
  files: HashedFile[],
  out: Output,
  concurrency: number,
  reporter: LandedReporter,
): Promise<CliDeployResult['uploaded']> {
  const byHash = new Map<string, HashedFile>();
  for (const f of files) if (!byHash.has(f.hash)) byHash.set(f.hash, f);
  let total = 0;
  for (const r of created.regions) for (const g of r.missing) total += byHash.get(g.hash)?.size ?? 0;
  let done = 0;
  out.progress('Uploading', 0, total, ' bytes');
  return Promise.all(
    created.regions.map(async (region) => {
      let blobs = 0;
      let bytes = 0;
      await mapLimit(region.missing, concurrency, async (grant) => {
        const file = byHash.get(grant.hash);
        if (!file)
          throw new Error(`the control plane granted a blob this folder does not have (${grant.hash})`);
        const outcome = await retryWithBackoff(async () => {
          const body =
            file.size <= BUFFER_LIMIT
              ? await readFile(file.absolutePath)
              : () => createReadStream(file.absolutePath);
          return putPresigned(grant.put, body, file.size);
        }, putRetry);
        if (outcome.stored) {
          blobs += 1;
          bytes += file.size;
        }
        reporter.landed(region.region, grant.hash);
        done += file.size;
        out.progress('Uploading', done, total, ' bytes');
      });
      return { region: region.region, blobs, bytes };
    }),
  );
}

export class DeployFailed extends CliError {
  constructor(
    view: DeploymentView,
    readonly result: CliDeployResult,
  ) {
    super(
      'deploy_failed',
      `Deployment ${view.id} ended ${view.status}${view.error ? `: ${view.error}` : ''}`,
      CLI_EXIT_CODES.deployFailed,
    );
  }
}

function deployFailed(view: DeploymentView, result: CliDeployResult): DeployFailed {
  return new DeployFailed(view, result);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The lines a finished deploy prints. */
export function printDeployment(out: Output, view: DeploymentView): void {
  out.line(`${view.status === 'ready' ? 'Ready' : view.status}: ${view.deploymentUrl}`);
  if (view.isProduction) out.line(`Production: ${view.url}`);
  if (view.branchUrl) out.line(`Branch: ${view.branchUrl}`);
}

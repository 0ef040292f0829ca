import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { putPresigned } from '@deploysphere/build-worker/presigned-http';
import {
  CLI_DEPLOY_PATHS,
  CliSourceDeployCreatedSchema,
  DeploymentViewSchema,
  retryWithBackoff,
  TERMINAL_STATUSES,
  type CliDeployResult,
} from '@deploysphere/contracts';
import type { ApiClient } from './api-client.js';
import { DeployFailed, formatBytes } from './deploy.js';
import { CliError } from './errors.js';
import { readLink, requireProject, writeLink } from './link.js';
import { endUpload, putRetry, uploadWithHeartbeat } from './upload-session.js';
import { followLogs } from './logs.js';
import type { Output } from './output.js';
import { listSource, packSource } from './source-archive.js';

export interface SourceDeployOptions {
  dir: string;
  prod: boolean;
  project?: string | undefined;
  regions?: string[] | undefined;
}

/**
 * `deploysphere deploy` without `--prebuilt` (docs/cli.md, "A source deploy"): list the folder
 * (ignore files honoured), pack it into a gzipped tar, PUT it with the deployment's grant, ask
 * for the build, then follow the build's log until the deployment is final.
 */
export async function deploySource(
  api: ApiClient,
  out: Output,
  opts: SourceDeployOptions,
): Promise<CliDeployResult> {
  const linked = await readLink(opts.dir);
  const project = requireProject(opts.project, linked);
  const listing = await listSource(opts.dir);
  if (listing.paths.length === 0) throw CliError.usage(`${opts.dir} has no files to deploy`);
  for (const p of listing.skippedLinks)
    out.info(`warning: ${p} is a symlink out of the folder; not uploaded`);
  const scratch = await mkdtemp(join(tmpdir(), 'deploysphere-source-'));
  try {
    const packed = await packSource(listing, join(scratch, 'source.tar.gz'), out);
    out.info(
      `Deploying the source of ${opts.dir} (${packed.files} files, ${formatBytes(listing.bytes)}; archive ${formatBytes(packed.size)}) to ${project} as ${opts.prod ? 'production' : 'a preview'}`,
    );
    const created = await api.post(CLI_DEPLOY_PATHS.source, CliSourceDeployCreatedSchema, {
      slug: project,
      target: opts.prod ? 'production' : 'preview',
      ...(opts.regions && opts.regions.length > 0 ? { regions: opts.regions } : {}),
      archive: { sha256: packed.sha256, size: packed.size, files: packed.files },
    });
    if (linked !== project) await writeLink(listing.root, project);
    const id = created.deployment.id;
    if (created.projectCreated) out.info(`Created project ${project} (no repository: CLI deployments only)`);

    await uploadWithHeartbeat(api, id, 'Run the deploy again', async () => {
      out.progress('Uploading', 0, packed.size, ' bytes');
      await retryWithBackoff(
        () => putPresigned(created.put, () => createReadStream(packed.file), packed.size),
        putRetry,
      );
      out.progress('Uploading', packed.size, packed.size, ' bytes');
    });

    let view = await endUpload(api, CLI_DEPLOY_PATHS.build(id), id);
    out.info(`Building ${id} in the sandbox…`);
    if (!TERMINAL_STATUSES.has(view.status)) {
      await followLogs(api, out, id);
      view = await api.get(`/deployments/${id}`, DeploymentViewSchema);
    }
    const result: CliDeployResult = {
      deployment: view,
      projectCreated: created.projectCreated,
      files: packed.files,
      blobs: 0,
      uploaded: [],
      archive: { bytes: packed.size, files: packed.files },
    };
    if (view.status !== 'ready') throw new DeployFailed(view, result);
    return result;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

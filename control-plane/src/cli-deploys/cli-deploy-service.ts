import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  AppError,
  blobKey,
  CLI_DEPLOY_ERRORS,
  ManifestSchema,
  manifestKey,
  retryWithBackoff,
  type CliDeployCreated,
  type CliLandedBody,
  type CliLandedResult,
  type DeploymentView,
  type Manifest,
  type UploadBlob,
} from '@deploysphere/contracts';
import type { z } from 'zod';
import type { CreateCliDeployBodySchema } from '@deploysphere/contracts';
import { mapLimit } from '@deploysphere/build-worker/concurrency';
import type { FastifyBaseLogger } from 'fastify';
import type { GrantBucket, GrantScope } from '../build-sessions/storage-grants.js';
import type { BatchPresignedGrants } from './batch-presigner.js';
import { storedSize } from '../infra/stored-object.js';
import { listedSize } from '../build-sessions/listed-blobs.js';
import { headStored } from './presigned-head.js';
import type { DeploymentService } from '../deployments/deployment-service.js';
import type { DeploymentStateMachine } from '../deployments/deployment-state-machine.js';
import type { RouteWriter } from '../hosts/route-writer.js';
import { newId } from '../ids.js';
import type { ProjectService } from '../projects/project-service.js';
import type { CliDeployStore, PendingCliDeploy } from './cli-deploy-store.js';
import { cliDeployTarget } from './cli-deploy-target.js';

export interface CliDeployServiceDeps {
  store: CliDeployStore;
  grants: BatchPresignedGrants;
  bucketFor(region: string): GrantBucket | undefined;
  state: DeploymentStateMachine;
  routes: RouteWriter;
  projects: ProjectService;
  deployments: DeploymentService;
  limits: { maxOutputFiles: number; maxOutputBytes: number };
  log: FastifyBaseLogger;
}

type CreateBody = z.output<typeof CreateCliDeployBodySchema>;

/** Storage calls of one finalize: tried 3 times, then the request fails and may be repeated. */
const retry = { attempts: 3, baseDelayMs: 200 };
/** How often finalize beats for the deployment while it checks (well within HEARTBEAT_TIMEOUT_MS). */
const FINALIZE_BEAT_MS = 1_000;
/** HEADs in flight per region while finalize checks the granted blobs. */
const HEAD_CONCURRENCY = 64;

function distinctBlobs(files: Manifest['files']): UploadBlob[] {
  const blobs = new Map<string, UploadBlob>();
  for (const f of Object.values(files))
    if (!blobs.has(f.hash)) blobs.set(f.hash, { hash: f.hash, size: f.size, contentType: f.contentType });
  return [...blobs.values()];
}

/**
 * Prebuilt deploys from the CLI (docs/cli.md). The trust boundary is the API token: its holder
 * may deploy any folder to any project, as through the rest of `/api/v1`. What the service
 * guarantees beyond that:
 *
 * - the client writes only `blobs/<sha256>` objects, each through a PUT whose signature binds its
 *   checksum (S3 refuses other bytes) and `If-None-Match: *` (never replacing a stored blob);
 * - the manifest is written by the control plane, exactly as it was validated at create, and only
 *   once every blob it lists is stored in every region of the deployment: a client cannot finalize
 *   with blobs it did not upload, and a site can never reference a missing file;
 * - the deployment moves only through the state machine: building (upload) → activate → ready,
 *   with the same route switch and history as a Git deployment.
 */
export class CliDeployService {
  constructor(private readonly deps: CliDeployServiceDeps) {}

  /** `teamId`: where a new project goes (authorize() decided it); an existing one stays where it is. */
  async create(body: CreateBody, teamId?: string): Promise<CliDeployCreated> {
    const { limits } = this.deps;
    const paths = Object.keys(body.files);
    if (paths.length > limits.maxOutputFiles) {
      throw new AppError(
        413,
        CLI_DEPLOY_ERRORS.tooLarge,
        `files: ${paths.length} files, more than the platform's limit of ${limits.maxOutputFiles}`,
        { field: 'files' },
      );
    }
    let bytes = 0;
    for (const f of Object.values(body.files)) bytes += f.size;
    if (bytes > limits.maxOutputBytes) {
      throw new AppError(
        413,
        CLI_DEPLOY_ERRORS.tooLarge,
        `files: ${bytes} bytes in all, more than the platform's limit of ${limits.maxOutputBytes}`,
        { field: 'files' },
      );
    }
    const { project, regions } = await cliDeployTarget(this.deps, body, teamId);

    const id = newId();
    const manifest = ManifestSchema.parse({
      v: 1,
      deploymentId: id,
      createdAt: new Date().toISOString(),
      files: body.files,
      redirects: body.redirects,
      headers: body.headers,
    });
    await this.deps.state.createPrebuilt(
      {
        id,
        projectId: project.id,
        source: 'cli',
        target: body.target,
        regions,
        files: paths.length,
        bytes: BigInt(bytes),
      },
      async (tx) => {
        await tx.cliDeployManifest.create({ data: { deploymentId: id, manifest: { v: 1, manifest } } });
      },
    );

    const blobs = distinctBlobs(manifest.files);
    let grants;
    try {
      grants = await this.deps.grants.uploadGrants(
        await this.scope(project.id, project.slug, id, regions),
        blobs,
      );
    } catch (err) {
      // The deployment cannot go anywhere without its grants: it ends here, with the reason.
      await this.deps.state.fail(id, 'storage could not be reached to grant the upload');
      throw err;
    }
    let totalBytes = 0;
    const sizes = new Map(blobs.map((b) => [b.hash, b.size]));
    const granted = grants.regions.map((r) => ({
      region: r.region,
      blobs: r.missing.map((g) => ({ hash: g.hash, size: sizes.get(g.hash) ?? 0 })),
    }));
    for (const r of granted) for (const b of r.blobs) totalBytes += b.size;
    await this.deps.store.noteGrants(id, manifest, granted, totalBytes);

    return {
      deployment: await this.deps.deployments.get(id),
      projectCreated: project.created,
      expiresAt: grants.expiresAt,
      blobs: blobs.length,
      regions: grants.regions.map((r) => ({ region: r.region, present: r.present, missing: r.missing })),
    };
  }

  async heartbeat(id: string): Promise<void> {
    if (!(await this.deps.store.heartbeat(id))) throw this.notUploading(id);
  }

  /**
   * The uploader's report of blobs that landed, while it uploads the rest: each granted one is
   * checked in storage now, and the ones found stored are not checked again at finalize. The
   * report is a claim: a hash not stored stays to be checked, one not granted is ignored. Also a
   * heartbeat.
   */
  async landed(id: string, body: CliLandedBody): Promise<CliLandedResult> {
    // Only the state: the manifest (thousands of files) is not read for a report.
    const d = await this.deps.store.uploadState(id);
    if (!d || d.source !== 'cli') throw AppError.notFound(`CLI deployment ${id}`, 'id');
    if (d.status !== 'building' || d.phase !== 'upload') throw this.notUploading(id, d.status);
    body.regions.forEach((r, i) => {
      if (!d.regions.includes(r.region))
        throw AppError.badRequest(
          `regions.${i}.region: ${r.region} is not one of this deployment's regions (${d.regions.join(', ')})`,
          `regions.${i}.region`,
        );
    });
    const regions = await Promise.all(
      body.regions.map(async (r) => {
        // Granted and not verified yet: any other hash is not finalize's to check.
        const pending = await this.deps.store.unverified(id, r.region, r.hashes);
        const stored = await this.storedAmong(r.region, [...pending.keys()], pending);
        await this.deps.store.noteVerified(id, r.region, [...stored]);
        return { region: r.region, verified: stored.size, notStored: pending.size - stored.size };
      }),
    );
    if (!(await this.deps.store.heartbeat(id))) throw this.notUploading(id);
    return { regions };
  }

  /**
   * Checks every blob in every region, writes the manifest, and activates the deployment. A
   * repeated finalize of a deployment that is ready already answers with it (a retried request).
   */
  async finalize(id: string): Promise<DeploymentView> {
    const d = await this.deps.store.pending(id);
    if (!d || d.source !== 'cli') throw AppError.notFound(`CLI deployment ${id}`, 'id');
    if (d.status === 'ready') return this.deps.deployments.get(id);
    if (d.status !== 'building' || d.phase !== 'upload' || !d.manifest) throw this.notUploading(id, d.status);
    const manifest = d.manifest;

    // The check runs while the client waits; the deployment is alive meanwhile.
    const beat = setInterval(
      () => void this.deps.store.heartbeat(id).catch(() => undefined),
      FINALIZE_BEAT_MS,
    );
    let lacking: { region: string; missing: string[] }[];
    try {
      lacking = (await this.lacking(d, manifest)).filter((r) => r.missing.length > 0);
    } finally {
      clearInterval(beat);
    }
    if (lacking.length > 0) {
      const detail = lacking
        .map((r) => `${r.region} lacks ${r.missing.length} (first: ${r.missing[0]!})`)
        .join('; ');
      throw new AppError(
        409,
        CLI_DEPLOY_ERRORS.blobsMissing,
        `files: blobs the manifest lists are not stored: ${detail}. Upload them and finalize again`,
        { field: 'files' },
      );
    }

    const uploadMs = d.startedAt ? Date.now() - d.startedAt.getTime() : 0;
    await this.writeManifest(d, manifest);
    if (!(await this.deps.state.phase(id, 'activate'))) throw this.notUploading(id);
    const started = performance.now();
    const project = { slug: d.slug, domains: d.domains };
    await this.deps.routes.publishDeployment(project, d);
    const phaseDurationsMs: Record<string, number> = { upload: uploadMs };
    const ready = await this.deps.state.ready(
      id,
      {
        files: Object.keys(manifest.files).length,
        uploadedBytes: d.totalBytes ?? 0n,
        phaseDurationsMs,
      },
      async () => {
        await this.deps.routes.publishProduction(project, d);
        phaseDurationsMs.activate = Math.round(performance.now() - started);
      },
    );
    if (ready) await this.deps.store.dropManifest(id);
    return this.deps.deployments.get(id);
  }

  /**
   * Per region, the manifest's blobs it does not hold. The ones granted at create and not found
   * stored since (landed) are checked (storedAmong). The others were found present at create by
   * the grants' own check, and stored blobs are immutable. Without a record of the grants,
   * everything is checked as at create.
   */
  private async lacking(
    d: PendingCliDeploy,
    manifest: Manifest,
  ): Promise<{ region: string; missing: string[] }[]> {
    const blobs = distinctBlobs(manifest.files);
    if (!d.granted) {
      const grants = await this.deps.grants.uploadGrants(
        await this.scope(d.projectId, d.slug, d.id, d.regions),
        blobs,
      );
      return grants.regions.map((r) => ({ region: r.region, missing: r.missing.map((g) => g.hash) }));
    }
    const sizes = new Map(blobs.map((b) => [b.hash, b.size]));
    return Promise.all(
      d.regions.map(async (region) => {
        const granted = d.granted?.[region] ?? [];
        const stored = await this.storedAmong(region, granted, sizes);
        return { region, missing: granted.filter((h) => !stored.has(h)) };
      }),
    );
  }

  /**
   * Which of `hashes` the region stores at the manifest's size: from a listing of `blobs/` where
   * the bucket is not much larger than the set (StorageGrants.listed), by a HEAD each otherwise.
   */
  private async storedAmong(
    region: string,
    hashes: readonly string[],
    sizes: ReadonlyMap<string, number>,
  ): Promise<Set<string>> {
    const stored = new Set<string>();
    if (hashes.length === 0) return stored;
    const b = this.deps.bucketFor(region);
    if (!b) throw AppError.internal(`region ${region} has no storage configured`);
    const listed = await this.deps.grants.listed(b, hashes);
    const toHead: string[] = [];
    for (const hash of hashes) {
      const size = listedSize(listed, hash);
      if (size === 'unknown') toHead.push(hash);
      else if (size === (sizes.get(hash) ?? -1)) stored.add(hash);
    }
    // Raw presigned HEADs when they can be signed in bulk; the SDK's HeadObject otherwise.
    const urls = await this.deps.grants.blobHeads(b, toHead);
    await mapLimit(toHead, HEAD_CONCURRENCY, async (hash, i) => {
      const size = sizes.get(hash) ?? -1;
      if (urls ? await headStored(urls[i]!, size) : await this.stored(b, hash, size)) stored.add(hash);
    });
    return stored;
  }

  private async stored(b: GrantBucket, hash: string, size: number): Promise<boolean> {
    return (await storedSize(b, blobKey(hash), retry)) === size;
  }

  private async writeManifest(d: PendingCliDeploy, manifest: Manifest): Promise<void> {
    const body = JSON.stringify(manifest);
    await Promise.all(
      d.regions.map(async (region) => {
        const b = this.deps.bucketFor(region);
        if (!b) throw AppError.internal(`region ${region} has no storage configured`);
        await retryWithBackoff(
          () =>
            b.client.send(
              new PutObjectCommand({
                Bucket: b.bucket,
                Key: manifestKey(d.id),
                Body: body,
                ContentType: 'application/json',
              }),
            ),
          retry,
        );
      }),
    );
  }

  private async scope(projectId: string, slug: string, id: string, regions: string[]): Promise<GrantScope> {
    return {
      deploymentId: id,
      projectSlug: slug,
      regions,
      previousDeployments: await this.deps.store.previousDeployments(projectId),
      // Caches are a build's; a CLI deploy asks for no cache grants.
      branch: 'cli',
      productionBranch: 'cli',
    };
  }

  private notUploading(id: string, status?: string): AppError {
    return new AppError(
      409,
      CLI_DEPLOY_ERRORS.notUploading,
      `id: deployment ${id} is not a CLI upload in progress${status ? ` (it is ${status})` : ''}`,
      { field: 'id' },
    );
  }
}

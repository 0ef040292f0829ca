import {
  AppError,
  CLI_DEPLOY_ERRORS,
  sourceArchiveKey,
  type BuildSource,
  type CliSourceDeployCreated,
  type CreateCliSourceDeployBodySchema,
  type DeploymentView,
} from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import type { z } from 'zod';
import {
  DEFAULT_GRANT_EXPIRY_SECONDS,
  type GrantBucket,
  type StorageGrants,
} from '../build-sessions/storage-grants.js';
import type { DeploymentService } from '../deployments/deployment-service.js';
import type { DeploymentStateMachine } from '../deployments/deployment-state-machine.js';
import { storedSize } from '../infra/stored-object.js';
import { newId } from '../ids.js';
import type { ProjectService } from '../projects/project-service.js';
import type { CliDeployStore } from './cli-deploy-store.js';
import { cliDeployTarget } from './cli-deploy-target.js';

export interface CliSourceDeployServiceDeps {
  db: Db;
  store: CliDeployStore;
  grants: StorageGrants;
  bucketFor(region: string): GrantBucket | undefined;
  state: DeploymentStateMachine;
  projects: ProjectService;
  deployments: DeploymentService;
}

type CreateBody = z.output<typeof CreateCliSourceDeployBodySchema>;

const retry = { attempts: 3, baseDelayMs: 200 };

/**
 * Source deploys from the CLI (docs/cli.md, "A source deploy"): the folder's source arrives as
 * one gzipped tar and is built in the sandbox exactly as a Git checkout would be.
 *
 * 1. `create`: the deployment is created uploading (building, phase `upload`, through the state
 *    machine's `prebuilt` transition, so the watchdog fails an upload that goes silent) and the
 *    client gets one presigned PUT: `sources/<its id>.tar.gz` in the primary region, signed over
 *    the declared sha256 and `If-None-Match: *`.
 * 2. `build`: the archive is stored with the declared size; the deployment goes back to queued
 *    (`sourceUploaded`) and its build job is published, as a Git deployment's is. Its spec then
 *    carries a presigned GET of the archive instead of a repository (`specSource`).
 * 3. The archive is deleted once the deployment is final (CliDeployJanitor).
 */
export class CliSourceDeployService {
  constructor(private readonly deps: CliSourceDeployServiceDeps) {}

  async create(body: CreateBody, teamId?: string): Promise<CliSourceDeployCreated> {
    const { project, regions } = await cliDeployTarget(this.deps, body, teamId);
    const primary = regions[0]!;
    const bucket = this.deps.bucketFor(primary);
    if (!bucket) throw AppError.internal(`region ${primary} has no storage configured`);

    const id = newId();
    await this.deps.state.createPrebuilt(
      { id, projectId: project.id, source: 'cli', target: body.target, regions },
      async (tx) => {
        await tx.cliSourceArchive.create({
          data: {
            deploymentId: id,
            sha256: body.archive.sha256,
            size: BigInt(body.archive.size),
            files: body.archive.files,
            region: primary,
          },
        });
      },
    );
    let put;
    try {
      put = await this.deps.grants.sourceArchivePut(bucket, sourceArchiveKey(id), body.archive.sha256);
    } catch (err) {
      await this.deps.state.fail(id, 'storage could not be reached to grant the upload');
      throw err;
    }
    return {
      deployment: await this.deps.deployments.get(id),
      projectCreated: project.created,
      // The grant's own expiry (StorageGrants signs for this long, counted from now).
      expiresAt: new Date(Date.now() + DEFAULT_GRANT_EXPIRY_SECONDS * 1000).toISOString(),
      put,
    };
  }

  /**
   * The archive is stored: queue the build. A repeated request for a deployment already queued
   * (or further) answers with it, as a retried finalize does.
   */
  async build(id: string): Promise<DeploymentView> {
    const d = await this.deps.db.deployment.findUnique({
      where: { id },
      include: { cliSource: true, project: { select: { slug: true } } },
    });
    if (!d || d.source !== 'cli') throw AppError.notFound(`CLI deployment ${id}`, 'id');
    if (!d.cliSource) throw this.notUploading(id, 'it is a prebuilt deploy: finalize it');
    if (d.status !== 'building' || d.phase !== 'upload') {
      if (d.cliSource.uploadedAt) return this.deps.deployments.get(id);
      throw this.notUploading(id, `it is ${d.status}`);
    }
    const bucket = this.deps.bucketFor(d.cliSource.region);
    if (!bucket) throw AppError.internal(`region ${d.cliSource.region} has no storage configured`);
    const stored = await storedSize(bucket, sourceArchiveKey(id), retry);
    if (stored !== Number(d.cliSource.size)) {
      throw new AppError(
        409,
        CLI_DEPLOY_ERRORS.archiveMissing,
        `archive: ${
          stored === null
            ? 'no archive is stored for this deployment'
            : `the stored archive has ${stored} bytes, not the ${d.cliSource.size} declared`
        }. Upload it with the grant and ask again`,
        { field: 'archive' },
      );
    }
    await this.deps.db.cliSourceArchive.update({
      where: { deploymentId: id },
      data: { uploadedAt: new Date() },
    });
    if (!(await this.deps.state.sourceUploaded(id))) throw this.notUploading(id);
    await this.deps.deployments.enqueue({ id, regions: d.regions }, d.project.slug);
    return this.deps.deployments.get(id);
  }

  private notUploading(id: string, why?: string): AppError {
    return new AppError(
      409,
      CLI_DEPLOY_ERRORS.notUploading,
      `id: deployment ${id} is not a CLI source upload in progress${why ? ` (${why})` : ''}`,
      { field: 'id' },
    );
  }
}

/**
 * The spec's source for a deployment built from a CLI archive: a presigned GET of it, signed for
 * this build at bootstrap, with the sha256 and size the worker checks. Null: a Git deployment.
 */
export async function specSource(
  db: Db,
  grants: Pick<StorageGrants, 'sourceArchiveGet'>,
  bucketFor: (region: string) => GrantBucket | undefined,
  deploymentId: string,
): Promise<BuildSource | null> {
  const a = await db.cliSourceArchive.findUnique({ where: { deploymentId } });
  if (!a) return null;
  const bucket = bucketFor(a.region);
  if (!bucket) throw AppError.internal(`region ${a.region} has no storage configured`);
  const get = await grants.sourceArchiveGet(bucket, sourceArchiveKey(deploymentId));
  return { kind: 'archive', get: { ...get, method: 'GET' }, sha256: a.sha256, size: Number(a.size) };
}

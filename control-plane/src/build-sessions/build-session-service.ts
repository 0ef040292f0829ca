import {
  AppError,
  BootstrapResponseSchema,
  BUILD_SESSION_ERRORS,
  cacheBranches,
  type BootstrapResponse,
  type BuildSource,
  type BuildSpec,
  type CacheRestoreResponse,
  type CacheSaveRequest,
  type CacheSaveResponse,
  type UploadBlob,
  type UploadGrantsResponse,
} from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import type { BuildCredentialsSigner } from '@deploysphere/stack/nats-auth';
import {
  bootstrapTokenOfFinishedDeployment,
  deploymentOfBuildToken,
  newToken,
  pendingBootstrap,
  redeemBootstrapToken,
  storeBootstrapToken,
} from './build-session-store.js';
import type { GrantScope, StorageGrants } from './storage-grants.js';

/**
 * How long a bootstrap token may wait for its worker. A Fargate task can take minutes to pull its
 * image and start; a token that was never used stops working after this.
 */
export const BOOTSTRAP_TOKEN_TTL_MS = 15 * 60_000;

/**
 * A build's NATS user outlives its time limit by this much. BUILD_TIMEOUT_MS bounds clone,
 * install and build, but not the upload after them, nor flushing the last log batches and events
 * (up to 30 s each). A build past it loses its NATS connection, and its deployment fails.
 */
export const BUILD_CREDENTIALS_MARGIN_MS = 5 * 60_000;

export interface BuildSessionDeps {
  db: Db;
  grants: StorageGrants;
  /** The spec of a claimed deployment (BuildPipeline.specFor): the project's env, decrypted. */
  specFor(deploymentId: string): Promise<BuildSpec>;
  /** Mints the build's own NATS user, allowed only its deployment's subjects. */
  signer: Pick<BuildCredentialsSigner, 'mintBuildCredentials'>;
  /** How long the build's NATS user lives (the build's time limit plus a margin). */
  credentialsTtlMs: number;
  /**
   * The seq of the deployment's newest event in the stream, applied or not (0 if none). A
   * restarted attempt must start after it: an earlier attempt's events may still wait for the
   * consumer, and JetStream drops a message whose id (`<deployment>:<seq>`) it has seen.
   */
  lastPublishedEventSeq(deploymentId: string): Promise<number>;
  /**
   * A CLI source deploy's archive, with a GET signed now for this build (cli-deploys/); null for
   * a Git deployment. Absent: every build clones.
   */
  sourceFor?(deploymentId: string): Promise<BuildSource | null>;
  bootstrapTtlMs?: number;
}

const refused = (status: 401 | 403 | 409, code: string, message: string) =>
  new AppError(status, code, message);

/**
 * A build's session: what a worker may know and do, decided here, not by its launch parameters.
 *
 * - `issueBootstrap`: a one-time token for a runner to hand the worker (the only secret in its
 *   launch). Issuing again replaces it: a restarted attempt gets its own.
 * - `bootstrap`: the token's one use. Answers the spec, the build's NATS user, the first event
 *   seq and a build token for the grant routes.
 * - grants: presigned S3 requests for the deployment's own objects (storage-grants.ts), only
 *   with its build token and only while it is building.
 */
export class BuildSessionService {
  constructor(private readonly deps: BuildSessionDeps) {}

  async issueBootstrap(deploymentId: string): Promise<string> {
    const token = newToken();
    const expiresAt = Date.now() + (this.deps.bootstrapTtlMs ?? BOOTSTRAP_TOKEN_TTL_MS);
    if (!(await storeBootstrapToken(this.deps.db, deploymentId, token, expiresAt))) {
      throw refused(409, BUILD_SESSION_ERRORS.notBuilding, `deployment ${deploymentId} is not building`);
    }
    return token;
  }

  async bootstrap(token: string | undefined): Promise<BootstrapResponse> {
    const invalid = () =>
      refused(
        401,
        BUILD_SESSION_ERRORS.bootstrapTokenInvalid,
        'The bootstrap token is unknown, already used or expired',
      );
    if (!token) throw invalid();
    // Everything that can fail (a region without storage, NATS or the database briefly away)
    // runs before the token is spent, so the worker's retry of a 5xx still finds it. The guarded
    // UPDATE at the end is the one commit point: of two exchanges, exactly one gets a build token.
    const d = await pendingBootstrap(this.deps.db, token);
    if (!d) {
      if (await bootstrapTokenOfFinishedDeployment(this.deps.db, token)) {
        throw refused(409, BUILD_SESSION_ERRORS.notBuilding, 'The deployment is no longer building');
      }
      throw invalid();
    }
    const source = await this.deps.sourceFor?.(d.id);
    const spec = { ...(await this.deps.specFor(d.id)), ...(source ? { source } : {}) };
    const natsCredentials = await this.deps.signer.mintBuildCredentials(d.id, this.deps.credentialsTtlMs);
    const published = await this.deps.lastPublishedEventSeq(d.id);
    const buildToken = newToken();
    if (!(await redeemBootstrapToken(this.deps.db, token, buildToken))) throw invalid();
    // Parsed, so nothing beyond the wire shape (a control plane's storage settings) goes out.
    return BootstrapResponseSchema.parse({
      v: 1,
      spec,
      natsCredentials,
      firstEventSeq: Math.max(d.lastEventSeq, published) + 1,
      buildToken,
    });
  }

  /** The build token's own deployment, still building; otherwise 401, 403 or 409. */
  async authorize(buildToken: string | undefined, deploymentId: string): Promise<void> {
    const d = buildToken ? await deploymentOfBuildToken(this.deps.db, buildToken) : null;
    if (!d) throw refused(401, BUILD_SESSION_ERRORS.buildTokenInvalid, 'A valid build token is required');
    if (d.id !== deploymentId) {
      throw refused(403, BUILD_SESSION_ERRORS.wrongDeployment, 'This build token is for another deployment');
    }
    if (d.status !== 'building') {
      throw refused(409, BUILD_SESSION_ERRORS.notBuilding, 'The deployment is no longer building');
    }
  }

  private async scope(deploymentId: string, need?: 'cache-restore' | 'cache-save'): Promise<GrantScope> {
    const spec = await this.deps.specFor(deploymentId);
    // The project's cache switch and "without cache" hold here, not only in the worker's choice.
    const cache = spec.cache ?? { enabled: true, restore: true };
    if (need && (!cache.enabled || (need === 'cache-restore' && !cache.restore))) {
      throw refused(
        403,
        BUILD_SESSION_ERRORS.cacheOff,
        cache.enabled ? 'This deployment was started without cache' : "The project's build cache is off",
      );
    }
    return {
      deploymentId,
      projectSlug: spec.projectSlug,
      regions: spec.storage.map((s) => s.region),
      previousDeployments: spec.previousDeployments,
      ...cacheBranches(spec),
    };
  }

  async uploadGrants(
    buildToken: string | undefined,
    deploymentId: string,
    blobs: readonly UploadBlob[],
  ): Promise<UploadGrantsResponse> {
    await this.authorize(buildToken, deploymentId);
    return this.deps.grants.uploadGrants(await this.scope(deploymentId), blobs);
  }

  async cacheRestore(
    buildToken: string | undefined,
    deploymentId: string,
    key: string,
  ): Promise<CacheRestoreResponse> {
    await this.authorize(buildToken, deploymentId);
    return this.deps.grants.cacheRestore(await this.scope(deploymentId, 'cache-restore'), key);
  }

  async cacheSave(
    buildToken: string | undefined,
    deploymentId: string,
    req: CacheSaveRequest,
  ): Promise<CacheSaveResponse> {
    await this.authorize(buildToken, deploymentId);
    return this.deps.grants.cacheSave(await this.scope(deploymentId, 'cache-save'), req);
  }
}

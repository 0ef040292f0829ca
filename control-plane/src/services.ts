import { BuildCredentialsSigner } from '@deploysphere/stack/nats-auth';
import { jetstreamManager } from '@nats-io/jetstream';
import type { FastifyBaseLogger } from 'fastify';
import { BUILD_CREDENTIALS_MARGIN_MS, BuildSessionService } from './build-sessions/build-session-service.js';
import { HEAD_ONLY, StorageGrants } from './build-sessions/storage-grants.js';
import { GrantedBlobs } from './build-sessions/granted-blobs.js';
import { BuildMetrics } from './pipeline/build-metrics.js';
import { BuildPipeline } from './pipeline/build-pipeline.js';
import type { BuildRunner } from './pipeline/build-runner.js';
import type { AppContext } from './context.js';
import { BuildQueue } from './pipeline/build-queue.js';
import { lastEventSeqInStream } from './pipeline/streams.js';
import { EnvCipher } from './projects/env-cipher.js';
import { DeploymentService } from './deployments/deployment-service.js';
import { ProjectService } from './projects/project-service.js';
import { BranchAliases } from './hosts/branch-aliases.js';
import { RouteWriter } from './hosts/route-writer.js';
import { SiteUrls } from './hosts/site-urls.js';
import { StatusPublisher } from './deployments/status-publisher.js';
import {
  BatchPresignedGrants,
  CliDeployService,
  CliDeployStore,
  CliSourceDeployService,
  CliDeployJanitor,
  specSource,
} from './cli-deploys/index.js';
import { DeploymentStateMachine } from './deployments/deployment-state-machine.js';
import { GcService } from './storage-gc/index.js';
import { protectionLookup } from './protection/project-protection.js';
import { ProtectionService } from './protection/protection-service.js';

export interface Services {
  projects: ProjectService;
  deployments: DeploymentService;
  pipeline: BuildPipeline;
  urls: SiteUrls;
  sessions: BuildSessionService;
  gc: GcService;
  cliDeploys: CliDeployService;
  /** CLI source deploys (docs/cli.md), and the deletion of their archives once final. */
  cliSources: CliSourceDeployService;
  cliDeployJanitor: CliDeployJanitor;
  protection: ProtectionService;
}

/** Wires the services of one control plane together; the routes only see these. */
export function createServices(ctx: AppContext, log: FastifyBaseLogger, runner?: BuildRunner): Services {
  const urls = new SiteUrls(ctx.config);
  // Every record it writes carries the project's protection (docs/protected-previews.md).
  const routes = new RouteWriter(ctx.routes, ctx.config.rootDomain, protectionLookup(ctx.db));
  const protection = new ProtectionService({
    db: ctx.db,
    store: ctx.routes,
    routes,
    urls,
    rootDomain: ctx.config.rootDomain,
    signingKey: ctx.config.protectionSigningKey,
  });
  const metrics = new BuildMetrics(ctx.metrics, ctx.db);
  const status = new StatusPublisher(ctx.nats, metrics);
  const aliases = new BranchAliases(routes, ctx.config.rootDomain);
  const state = new DeploymentStateMachine({ db: ctx.db, status, registry: ctx.metrics, aliases });
  const queue = new BuildQueue(ctx.nats);
  // Projects, deployments and the pipeline refer to each other only through closures that run
  // after all three exist (deleting a project cancels its builds; a cancel stops the build).
  const projects = new ProjectService({
    db: ctx.db,
    config: ctx.config,
    cipher: new EnvCipher(ctx.config.envEncryptionKey),
    urls,
    routes,
    protection,
    cancelActive: (projectId, reason) => deployments.cancelActive(projectId, reason),
  });
  const deployments: DeploymentService = new DeploymentService({
    db: ctx.db,
    queue,
    projects,
    routes,
    urls,
    state,
    log,
    stopBuild: (id) => pipeline.stopBuild(id),
  });
  const pipeline: BuildPipeline = new BuildPipeline({
    ctx,
    metrics,
    queue,
    projects,
    deployments: () => deployments,
    routes,
    state,
    log,
    issueBootstrap: (id) => sessions.issueBootstrap(id),
    ...(runner ? { runner } : {}),
  });
  const bucketFor = (region: string) => {
    const target = ctx.storage.target(region);
    const client = ctx.storage.client(region);
    return target && client ? { client, bucket: target.bucket } : undefined;
  };
  const listing = ctx.config.blobPresenceListing ? {} : { listing: HEAD_ONLY };
  // One ledger for builds and CLI deploys: a blob granted to either is looked up by both.
  const ledger = new GrantedBlobs(ctx.db);
  const grants = new StorageGrants({
    bucketFor,
    claimBlobs: (id, hashes) => gc.claim(id, hashes),
    ledger,
    ...listing,
  });
  // A build's bootstrap and grants: its spec comes from the pipeline, its storage requests are
  // signed with the control plane's own credentials for each region.
  const sessions: BuildSessionService = new BuildSessionService({
    db: ctx.db,
    grants,
    specFor: (id) => pipeline.specFor(id),
    signer: BuildCredentialsSigner.forControlPlane(
      ctx.config.natsAuth.credentials,
      ctx.config.natsAuth.buildSigningKey,
    ),
    credentialsTtlMs: ctx.config.build.timeoutMs + BUILD_CREDENTIALS_MARGIN_MS,
    lastPublishedEventSeq: async (id) => lastEventSeqInStream(await jetstreamManager(ctx.nats), id),
    sourceFor: (id) => specSource(ctx.db, grants, bucketFor, id),
  });
  // Prebuilt deploys from the CLI: the same grants, state machine and route switch as a build's.
  const cliDeploys = new CliDeployService({
    store: new CliDeployStore(ctx.db),
    // A folder's thousands of blob PUTs are signed in bulk (exactly as the SDK would sign them).
    grants: new BatchPresignedGrants({
      bucketFor,
      claimBlobs: (id, hashes) => gc.claim(id, hashes),
      ledger,
      ...listing,
    }),
    bucketFor,
    state,
    routes,
    projects,
    deployments,
    limits: ctx.config.build,
    log,
  });
  // Retention and garbage collection (docs/retention.md); upload grants claim their blobs with it.
  const gc = new GcService({
    db: ctx.db,
    routes: ctx.routes,
    rootDomain: ctx.config.rootDomain,
    buckets: ctx.config.storage.flatMap((t) => {
      const client = ctx.storage.client(t.region);
      return client ? [{ region: t.region, client, bucket: t.bucket }] : [];
    }),
    settings: ctx.config.gc,
    log,
  });
  const cliSources = new CliSourceDeployService({
    db: ctx.db,
    store: new CliDeployStore(ctx.db),
    grants,
    bucketFor,
    state,
    projects,
    deployments,
  });
  const cliDeployJanitor = new CliDeployJanitor({ db: ctx.db, nats: ctx.nats, bucketFor, log });
  return {
    projects,
    deployments,
    pipeline,
    urls,
    sessions,
    gc,
    cliDeploys,
    cliSources,
    cliDeployJanitor,
    protection,
  };
}

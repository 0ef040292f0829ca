import { subjects, TERMINAL_STATUSES, type BuildSpec } from '@deploysphere/contracts';
import { BuildCredentialsSigner } from '@deploysphere/stack/nats-auth';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { isAuthRefusal, natsAuthOptions } from '../infra/nats.js';
import type { BuildQueue } from './build-queue.js';
import { ensureStreams, lastEventSeqInStream } from './streams.js';
import type { DeploymentService } from '../deployments/deployment-service.js';
import type { ProjectService } from '../projects/project-service.js';
import type { RouteWriter } from '../hosts/route-writer.js';
import type { DeploymentStateMachine } from '../deployments/deployment-state-machine.js';
import type { BuildMetrics } from './build-metrics.js';
import type { BuildExit, BuildRunner } from './build-runner.js';
import { buildSpecFor } from './build-spec.js';
import { cloneCredentialFor } from '../git-credentials/index.js';
import { EnvCipher } from '../projects/env-cipher.js';
import { RegionDispatcher } from './dispatcher.js';
import { BuildEventConsumer } from './event-consumer.js';
import { EcsRunners } from './ecs/ecs-runners.js';
import { LocalRunner } from './local-runner.js';
import { takeOverUnlaunched } from './takeover.js';
import { Watchdog } from './watchdog.js';

/** How long a finished worker's last events may take to be applied before its exit decides. */
const SETTLE_AFTER_EXIT_MS = 10_000;
/** How long it may wait on for events of the build still in the stream (a consumer backlog). */
const SETTLE_BACKLOG_MAX_MS = 5 * 60_000;

export interface PipelineDeps {
  ctx: AppContext;
  queue: BuildQueue;
  projects: ProjectService;
  deployments: () => DeploymentService;
  routes: RouteWriter;
  state: DeploymentStateMachine;
  log: FastifyBaseLogger;
  metrics: BuildMetrics;
  runner?: BuildRunner;
  /** A one-time token the worker exchanges for its spec (BuildSessionService.issueBootstrap). */
  issueBootstrap(deploymentId: string): Promise<string>;
}

/**
 * The build pipeline of one control plane: a dispatcher per region, the build-event consumer and
 * the watchdog. Everything it starts, stop() ends. Local builds still running are stopped and
 * marked as failed with the reason, so none is left `building` by a clean shutdown; ECS builds
 * run on, their lease given back for another control plane (or the next start) to adopt.
 */
export class BuildPipeline {
  private readonly dispatchers: RegionDispatcher[];
  private readonly events: BuildEventConsumer;
  private readonly watchdog: Watchdog;
  private readonly signer: BuildCredentialsSigner;
  /** With BUILD_RUNNER=ecs: each region's ECS runner, watcher and orphan sweep. */
  private readonly ecs: EcsRunners | undefined;

  constructor(private readonly deps: PipelineDeps) {
    const { ctx } = deps;
    this.signer = BuildCredentialsSigner.forControlPlane(
      ctx.config.natsAuth.credentials,
      ctx.config.natsAuth.buildSigningKey,
    );
    const { buildRunner } = ctx.config;
    this.ecs =
      !deps.runner && buildRunner.kind === 'ecs'
        ? new EcsRunners(buildRunner, {
            db: ctx.db,
            natsUrl: ctx.config.natsUrl,
            log: deps.log,
            issueBootstrap: (id) => deps.issueBootstrap(id),
          })
        : undefined;
    const local =
      deps.runner ??
      new LocalRunner({
        natsUrl: ctx.config.natsUrl,
        controlPlaneUrl: ctx.config.controlPlaneUrl,
        ...(ctx.config.natsAuth.tlsCaFile ? { natsTlsCaFile: ctx.config.natsAuth.tlsCaFile } : {}),
        limits: ctx.config.build,
      });
    this.dispatchers = ctx.config.regions.map(
      (r) =>
        new RegionDispatcher(r.id, ctx.config.buildConcurrency, {
          nats: ctx.nats,
          state: deps.state,
          // One runner per region on ECS: each with its own client for that region's API.
          runner: this.ecs?.runnerFor(r.id) ?? local,
          log: deps.log,
          issueBootstrap: (id) => deps.issueBootstrap(id),
          recordRunner: async (id, runner) => {
            // Where the build runs is a fact about it, not a status change.
            await ctx.db.deployment.updateMany({
              where: { id, status: 'building' },
              // Owned from the claim on: a build whose task is still starting is never taken for
              // one a dead control plane left (EcsRunners' lease).
              data: {
                runnerKind: runner.kind,
                runnerRegion: runner.region,
                runnerTaskArn: null,
                ...(this.ecs ? this.ecs.lease() : {}),
              },
            });
          },
          onExit: (id, exit) => this.settleAfterExit(id, exit),
          takeOver: (id) => takeOverUnlaunched(ctx.db, id, deps.log),
        }),
    );
    this.events = new BuildEventConsumer({
      nats: ctx.nats,
      db: ctx.db,
      routes: deps.routes,
      state: deps.state,
      log: deps.log,
      metrics: deps.metrics,
    });
    this.watchdog = new Watchdog({
      db: ctx.db,
      queue: deps.queue,
      state: deps.state,
      log: deps.log,
      heartbeatTimeoutMs: ctx.config.build.heartbeatTimeoutMs,
      requeueAfterMs: 10_000,
      stopBuild: (id) => this.stopBuild(id),
      onIntervention: (action) => deps.metrics.watchdogIntervened(action),
      unappliedEvents: async (id, appliedSeq) =>
        (await lastEventSeqInStream(await jetstreamManager(ctx.nats), id)) > appliedSeq,
      requeue: async (id) => {
        const d = await ctx.db.deployment.findUnique({ where: { id }, include: { project: true } });
        if (d?.status === 'queued') await this.deps.deployments().enqueue(d, d.project.slug);
      },
    });
  }

  async start(): Promise<void> {
    await ensureStreams(await jetstreamManager(this.deps.ctx.nats));
    await this.checkBuildSigningKey();
    await this.events.start();
    // Builds no live control plane follows (ECS tasks of a dead or stopped one) are adopted now
    // and at every lease round after; each is followed by its region's dispatcher.
    await this.ecs?.start(({ region, handle }) => {
      this.dispatchers.find((d) => d.region === region)?.adopt(handle);
    });
    for (const d of this.dispatchers) await d.start();
    this.watchdog.start();
  }

  /**
   * Stops in dependency order: no new sweeps, then no new builds (each dispatcher fails and stops
   * the builds it runs, see RegionDispatcher.stop), then the event consumer, before the NATS
   * connection closes under it. A part that fails to stop is logged and the rest still stop.
   */
  async stop(): Promise<void> {
    const step = async (what: string, run: () => Promise<void>) => {
      try {
        await run();
      } catch (err) {
        this.deps.log.error({ err }, `stopping the ${what} failed`);
      }
    };
    await step('watchdog', () => this.watchdog.stop());
    await Promise.all(this.dispatchers.map((d) => step(`${d.consumerName} dispatcher`, () => d.stop())));
    // After the dispatchers: stopping their ECS builds waits on the watchers seeing the tasks end.
    if (this.ecs) await step('ECS runners', () => this.ecs!.stop());
    await step('build event consumer', () => this.events.stop());
  }

  /**
   * Connects once as a build would. A signing key the account does not list would otherwise fail
   * every build, with the reason only in each worker's log; this fails the start and says why.
   */
  private async checkBuildSigningKey(): Promise<void> {
    const { natsUrl, natsAuth } = this.deps.ctx.config;
    // A well-formed id no deployment has (ids are random); the probe publishes nothing anyway.
    const probe = '0'.repeat(24);
    try {
      const nc = await connect({
        servers: natsUrl,
        name: 'control-plane-build-key-check',
        ...natsAuthOptions(await this.signer.mintBuildCredentials(probe, 60_000), natsAuth.tlsCaFile),
        inboxPrefix: subjects.buildInboxPrefix(probe),
        reconnect: false,
      });
      await nc.close();
    } catch (err) {
      if (isAuthRefusal(err)) {
        throw new Error(
          `NATS refused a build user signed with NATS_BUILD_SIGNING_KEY (${err.message}): the key ` +
            `must be a signing key of account ${this.signer.account} (docs/nats-auth.md)`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /**
   * Tells the build to stop wherever it runs (the worker listens on its cancel subject), and
   * stops the local process tree outright when this control plane started it.
   */
  async stopBuild(id: string): Promise<void> {
    if (!this.deps.ctx.nats.isClosed()) this.deps.ctx.nats.publish(subjects.buildCancel(id), '');
    const handle = this.dispatchers.map((d) => d.running.get(id)).find((h) => h !== undefined);
    if (handle) return handle.stop();
    // An ECS build another control plane started (or one not adopted yet): StopTask by its ARN.
    await this.ecs?.stopRecordedTask(id, 'build stopped');
  }

  /** What a build of this deployment is given when it exchanges its bootstrap token (build-sessions/). */
  specFor(id: string): Promise<BuildSpec> {
    const { ctx, projects } = this.deps;
    return buildSpecFor(
      {
        db: ctx.db,
        storageTarget: (region) => ctx.storage.target(region),
        envFor: (p) => projects.envFor(p),
        gitCredentialFor: (p) => cloneCredentialFor(ctx.db, new EnvCipher(ctx.config.envEncryptionKey), p),
      },
      id,
    );
  }

  /**
   * A worker that exits has normally reported `uploaded` or `failed` already; give the consumer
   * time to apply it. One that died without a word fails the deployment with its exit status.
   */
  private async settleAfterExit(id: string, exit: BuildExit): Promise<void> {
    if (exit.resources) this.deps.metrics.buildResources(exit.resources, 'process-accounting');
    const deadline = Date.now() + SETTLE_AFTER_EXIT_MS;
    const giveUp = Date.now() + SETTLE_BACKLOG_MAX_MS;
    for (;;) {
      const d = await this.deps.ctx.db.deployment.findUnique({
        where: { id },
        select: { status: true, lastEventSeq: true },
      });
      if (!d || TERMINAL_STATUSES.has(d.status)) return;
      if (Date.now() >= deadline) {
        // Events are applied one at a time across every control plane: behind a backlog (many
        // builds ending together), the worker's result may still wait in the stream. Wait while
        // it holds events of this build not applied yet; an exit with none left decides.
        const published = await lastEventSeqInStream(await jetstreamManager(this.deps.ctx.nats), id).catch(
          () => 0,
        );
        if (published <= d.lastEventSeq || Date.now() >= giveUp) break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    // A runner that knows why (ECS's stop code and reason) says so; a local process has its exit.
    const how = exit.reason
      ? exit.reason
      : exit.signal
        ? `the build worker was killed by ${exit.signal}`
        : `the build worker exited with code ${exit.code}`;
    await this.deps.state.fail(id, `${how} without reporting a result`);
  }
}

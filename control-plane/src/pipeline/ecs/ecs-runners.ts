import { randomUUID } from 'node:crypto';
import { ECSClient } from '@aws-sdk/client-ecs';
import { TERMINAL_STATUSES } from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import type { FastifyBaseLogger } from 'fastify';
import type { BuildRunnerConfig } from '../../config.js';
import type { BuildHandle } from '../build-runner.js';
import { EcsRunner } from './ecs-runner.js';
import { EcsTaskWatcher } from './ecs-task-watcher.js';

type EcsConfig = Extract<BuildRunnerConfig, { kind: 'ecs' }>;

/**
 * The SDK retries throttling and 5xx answers itself, with its adaptive token bucket; this bounds
 * it, so a RunTask that keeps being throttled fails the build with the reason instead of waiting.
 */
const ECS_MAX_ATTEMPTS = 5;

export interface AdoptedBuild {
  region: string;
  handle: BuildHandle;
}

/**
 * Every region's EcsRunner, each with its own ECSClient and task watcher, plus what runs across
 * them: the owner lease, adopting the builds no live control plane follows, and the orphan sweep.
 *
 * Ownership: the control plane that claims a build records itself as its `runnerOwner`, with a
 * lease it renews every third of `ownerLeaseMs` while it lives. Only the owner follows the task.
 * Another control plane adopts the build once the lease has run out (the owner died) or was
 * given back (the owner shut down), through a guarded update, so of several replicas exactly one
 * takes it. Rows without an owner (from control planes before the lease) are adopted as before.
 */
export class EcsRunners {
  private readonly runners = new Map<
    string,
    { runner: EcsRunner; watcher: EcsTaskWatcher; client: ECSClient }
  >();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private leasing: Promise<void> | undefined;
  private onAdopted: (build: AdoptedBuild) => void = () => undefined;
  private readonly ownerId: string;

  constructor(
    private readonly config: EcsConfig,
    private readonly deps: {
      db: Db;
      natsUrl: string;
      log: FastifyBaseLogger;
      issueBootstrap(deploymentId: string): Promise<string>;
      /** This control plane's identity as a build's owner; default a new one per process. */
      ownerId?: string;
    },
  ) {
    this.ownerId = deps.ownerId ?? randomUUID();
    for (const settings of config.regions) {
      const client = new ECSClient({
        region: settings.region,
        maxAttempts: ECS_MAX_ATTEMPTS,
        ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
        ...(config.credentials ? { credentials: config.credentials } : {}),
      });
      const watcher = new EcsTaskWatcher({
        client,
        cluster: settings.cluster,
        containerName: settings.containerName,
        log: deps.log,
        intervalMs: config.pollIntervalMs,
        maxIntervalMs: Math.max(config.pollIntervalMs, 30_000),
      });
      const runner = new EcsRunner({
        settings,
        client,
        watcher,
        natsUrl: deps.natsUrl,
        log: deps.log,
        issueBootstrap: deps.issueBootstrap,
        recordTask: async (id, task) => {
          // Where the build runs is a fact about it, not a status change: no transition involved.
          await deps.db.deployment.updateMany({
            where: { id, status: 'building' },
            data: {
              runnerKind: 'ecs',
              runnerRegion: task.region,
              runnerTaskArn: task.taskArn,
              runnerAttempt: task.attempt,
              ...this.lease(),
            },
          });
        },
        stillBuilding: async (id) =>
          (await deps.db.deployment.findUnique({ where: { id }, select: { status: true } }))?.status ===
          'building',
      });
      this.runners.set(settings.region, { runner, watcher, client });
    }
  }

  runnerFor(region: string): EcsRunner {
    const r = this.runners.get(region);
    if (!r) throw new Error(`region ${region} has no ECS settings (ECS_<REGION>_… variables)`);
    return r.runner;
  }

  /**
   * Starts the watchers, the lease and the orphan sweep. Every build adopted, now (resolved
   * before this returns) or later (a replica died), is handed to `onAdopted`.
   */
  async start(onAdopted: (build: AdoptedBuild) => void): Promise<void> {
    this.onAdopted = onAdopted;
    for (const { watcher } of this.runners.values()) watcher.start();
    await this.adoptUnowned();
    this.leaseTimer = setInterval(() => void this.leaseOnce(), Math.max(100, this.config.ownerLeaseMs / 3));
    this.leaseTimer.unref();
    this.sweepTimer = setInterval(() => void this.sweepOnce(), this.config.orphanSweepIntervalMs);
    this.sweepTimer.unref();
  }

  /**
   * Gives back the lease on every build this control plane follows (the dispatchers have
   * released them and they run on), so another replica adopts them at its next lease round
   * rather than after the lease runs out.
   */
  async stop(): Promise<void> {
    clearInterval(this.leaseTimer);
    clearInterval(this.sweepTimer);
    await this.leasing;
    await this.sweeping;
    try {
      await this.deps.db.deployment.updateMany({
        where: { runnerOwner: this.ownerId, runnerKind: 'ecs', status: 'building' },
        data: { runnerLeaseUntil: new Date() },
      });
    } catch (err) {
      this.deps.log.warn({ err }, 'could not give back the build leases; they run out by themselves');
    }
    await Promise.all([...this.runners.values()].map(({ watcher }) => watcher.stop()));
    for (const { client } of this.runners.values()) client.destroy();
  }

  /** The owner columns of a build this control plane claims or renews: itself, for a lease. */
  lease(): { runnerOwner: string; runnerLeaseUntil: Date } {
    return {
      runnerOwner: this.ownerId,
      runnerLeaseUntil: new Date(Date.now() + this.config.ownerLeaseMs),
    };
  }

  /** One lease round: renew this control plane's builds, then adopt those nobody holds. */
  leaseOnce(): Promise<void> {
    this.leasing ??= (async () => {
      try {
        await this.deps.db.deployment.updateMany({
          where: { runnerOwner: this.ownerId, runnerKind: 'ecs', status: 'building' },
          data: { runnerLeaseUntil: this.lease().runnerLeaseUntil },
        });
        await this.adoptUnowned();
      } catch (err) {
        this.deps.log.warn({ err }, 'the build lease round failed; it runs again shortly');
      }
    })().finally(() => (this.leasing = undefined));
    return this.leasing;
  }

  /** Stops a build's task by its recorded ARN: for a build this control plane holds no handle of. */
  async stopRecordedTask(deploymentId: string, reason: string): Promise<void> {
    const d = await this.deps.db.deployment.findUnique({
      where: { id: deploymentId },
      select: { runnerKind: true, runnerRegion: true, runnerTaskArn: true },
    });
    if (d?.runnerKind !== 'ecs' || !d.runnerRegion || !d.runnerTaskArn) return;
    await this.runners.get(d.runnerRegion)?.runner.stopTask(d.runnerTaskArn, reason);
  }

  /**
   * Every deployment `building` on ECS whose owner is gone (its lease ran out or was given back)
   * is taken over, one guarded update each, and followed again by `startedBy`: its task keeps
   * reporting over NATS, and its end (or its absence) settles it.
   */
  private async adoptUnowned(): Promise<void> {
    const now = new Date();
    const unowned = await this.deps.db.deployment.findMany({
      where: {
        status: 'building',
        runnerKind: 'ecs',
        runnerRegion: { in: [...this.runners.keys()] },
        OR: [{ runnerOwner: null }, { runnerOwner: { not: this.ownerId }, runnerLeaseUntil: { lt: now } }],
      },
      select: {
        id: true,
        runnerRegion: true,
        runnerTaskArn: true,
        runnerAttempt: true,
        runnerOwner: true,
        runnerLeaseUntil: true,
      },
    });
    for (const d of unowned) {
      // Taken only if nobody changed the owner since the read: another replica adopting at the
      // same moment, or the owner renewing just in time.
      const { count } = await this.deps.db.deployment.updateMany({
        where: {
          id: d.id,
          status: 'building',
          runnerOwner: d.runnerOwner,
          runnerLeaseUntil: d.runnerLeaseUntil,
        },
        data: this.lease(),
      });
      if (count !== 1) continue;
      try {
        const handle = await this.runnerFor(d.runnerRegion!).adopt(d.id, {
          taskArn: d.runnerTaskArn,
          attempt: d.runnerAttempt,
        });
        this.deps.log.info(
          { deploymentId: d.id, taskArn: d.runnerTaskArn, previousOwner: d.runnerOwner },
          'adopted a running build task',
        );
        this.onAdopted({ region: d.runnerRegion!, handle });
      } catch (err) {
        // The API may be briefly unavailable: give the lease back so the next round tries again
        // (the watchdog still fails a build that stays silent).
        this.deps.log.error({ err, deploymentId: d.id }, 'could not adopt a build task');
        await this.deps.db.deployment
          .updateMany({
            where: { id: d.id, runnerOwner: this.ownerId },
            data: { runnerLeaseUntil: now },
          })
          .catch(() => undefined);
      }
    }
  }

  /** One sweep of every region; a failed region is logged and retried at the next interval. */
  sweepOnce(): Promise<void> {
    this.sweeping ??= (async () => {
      for (const [region, { runner }] of this.runners) {
        try {
          const stopped = await runner.sweepOrphans((ids) => this.finished(ids));
          if (stopped.length > 0) this.deps.log.warn({ region, stopped }, 'stopped orphaned build tasks');
        } catch (err) {
          this.deps.log.warn({ err, region }, 'the orphan sweep failed; it runs again later');
        }
      }
    })().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  /** Of these deployment ids, those finished or unknown: their tasks have nothing left to do. */
  private async finished(ids: string[]): Promise<Set<string>> {
    const rows = await this.deps.db.deployment.findMany({
      where: { id: { in: ids } },
      select: { id: true, status: true },
    });
    const live = new Set(rows.filter((r) => !TERMINAL_STATUSES.has(r.status)).map((r) => r.id));
    return new Set(ids.filter((id) => !live.has(id)));
  }
}

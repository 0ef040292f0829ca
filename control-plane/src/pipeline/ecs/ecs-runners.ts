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
 * them: adopting the builds a previous control plane started, and the orphan sweep.
 */
export class EcsRunners {
  private readonly runners = new Map<
    string,
    { runner: EcsRunner; watcher: EcsTaskWatcher; client: ECSClient }
  >();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly config: EcsConfig,
    private readonly deps: {
      db: Db;
      natsUrl: string;
      log: FastifyBaseLogger;
      issueBootstrap(deploymentId: string): Promise<string>;
    },
  ) {
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

  /** Starts the watchers and the orphan sweep; returns the builds it adopted, per region. */
  async start(): Promise<AdoptedBuild[]> {
    for (const { watcher } of this.runners.values()) watcher.start();
    const adopted = await this.adoptRunning();
    this.sweepTimer = setInterval(() => void this.sweepOnce(), this.config.orphanSweepIntervalMs);
    this.sweepTimer.unref();
    return adopted;
  }

  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.sweeping;
    await Promise.all([...this.runners.values()].map(({ watcher }) => watcher.stop()));
    for (const { client } of this.runners.values()) client.destroy();
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
   * Every deployment left `building` on ECS by a previous control plane is followed again, by
   * `startedBy`: its task keeps reporting over NATS, and its end (or its absence) settles it.
   */
  private async adoptRunning(): Promise<AdoptedBuild[]> {
    const building = await this.deps.db.deployment.findMany({
      where: { status: 'building', runnerKind: 'ecs', runnerRegion: { in: [...this.runners.keys()] } },
      select: { id: true, runnerRegion: true, runnerTaskArn: true, runnerAttempt: true },
    });
    const adopted: AdoptedBuild[] = [];
    for (const d of building) {
      try {
        const handle = await this.runnerFor(d.runnerRegion!).adopt(d.id, {
          taskArn: d.runnerTaskArn,
          attempt: d.runnerAttempt,
        });
        adopted.push({ region: d.runnerRegion!, handle });
        this.deps.log.info({ deploymentId: d.id, taskArn: d.runnerTaskArn }, 'adopted a running build task');
      } catch (err) {
        // The API may be briefly unavailable: the watchdog still fails a silent build in the end.
        this.deps.log.error({ err, deploymentId: d.id }, 'could not adopt a build task');
      }
    }
    return adopted;
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

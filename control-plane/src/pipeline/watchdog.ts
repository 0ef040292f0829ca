import type { Db } from '@deploysphere/db';
import type { FastifyBaseLogger } from 'fastify';
import type { BuildQueue } from './build-queue.js';
import type { DeploymentStateMachine } from '../deployments/deployment-state-machine.js';

export interface WatchdogDeps {
  db: Db;
  queue: BuildQueue;
  state: DeploymentStateMachine;
  log: FastifyBaseLogger;
  heartbeatTimeoutMs: number;
  /** How long a queued deployment may wait before its job is checked for. */
  requeueAfterMs: number;
  stopBuild(deploymentId: string): Promise<void>;
  requeue(deploymentId: string): Promise<void>;
  /** Counts each intervention (the watchdog_interventions metric). */
  onIntervention?(action: 'failed_silent' | 'requeued'): void;
  /**
   * Whether the build-events stream holds events of the deployment past `appliedSeq`: then its
   * worker is not silent, the consumer (one event at a time across every control plane) is behind.
   */
  unappliedEvents?(deploymentId: string, appliedSeq: number): Promise<boolean>;
}

/**
 * Makes sure nothing hangs silently:
 * - a building deployment whose worker stopped sending heartbeats is failed, with the reason;
 * - a queued deployment whose job is missing from the queue (lost between the database write and
 *   the publish, say) is queued again.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(private readonly deps: WatchdogDeps) {}

  start(intervalMs = 2_000): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((err) => this.deps.log.warn({ err }, 'watchdog sweep failed'))
        .finally(() => (this.sweeping = undefined));
    }, intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  async sweep(): Promise<void> {
    const now = Date.now();
    // A build whose worker has not fetched its spec yet is judged by its bootstrap token's lifetime,
    // not by heartbeats: an ECS task may take minutes to be placed, pull its image and start.
    const silent = await this.deps.db.deployment.findMany({
      where: {
        status: 'building',
        OR: [
          { bootstrapTokenHash: null, lastHeartbeatAt: { lt: new Date(now - this.deps.heartbeatTimeoutMs) } },
          { bootstrapTokenHash: { not: null }, bootstrapExpiresAt: { lt: new Date(now) } },
        ],
      },
      select: { id: true, lastHeartbeatAt: true, bootstrapTokenHash: true, lastEventSeq: true },
    });
    for (const d of silent) {
      if (
        !d.bootstrapTokenHash &&
        (await this.deps.unappliedEvents?.(d.id, d.lastEventSeq).catch(() => false))
      )
        continue;
      const error = d.bootstrapTokenHash
        ? 'the build worker never started: its one-time bootstrap token expired unused'
        : `the build worker stopped sending heartbeats (last one at ${d.lastHeartbeatAt?.toISOString()})`;
      // Only if nothing changed since it was read: a late beat (or a bootstrap) means the build lives.
      const unchanged = { lastHeartbeatAt: d.lastHeartbeatAt, bootstrapTokenHash: d.bootstrapTokenHash };
      if (await this.deps.state.fail(d.id, error, { where: unchanged })) {
        this.deps.log.warn({ deploymentId: d.id }, error);
        this.deps.onIntervention?.('failed_silent');
        await this.deps
          .stopBuild(d.id)
          .catch((err: unknown) =>
            this.deps.log.error({ err, deploymentId: d.id }, 'stopping a silent build failed'),
          );
      }
    }

    const waiting = await this.deps.db.deployment.findMany({
      where: { status: 'queued', createdAt: { lt: new Date(now - this.deps.requeueAfterMs) } },
      select: { id: true, regions: true },
    });
    for (const d of waiting) {
      if (!(await this.deps.queue.has(d.regions[0]!, d.id))) {
        this.deps.log.warn({ deploymentId: d.id }, 'queued deployment had no job; queueing it again');
        await this.deps.requeue(d.id);
        this.deps.onIntervention?.('requeued');
      }
    }
  }
}

import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  BuildEventSchema,
  STREAMS,
  subjects,
  TERMINAL_STATUSES,
  type BuildEvent,
} from '@deploysphere/contracts';
import type { Db, Prisma } from '@deploysphere/db';
import type { FastifyBaseLogger } from 'fastify';
import type { RouteWriter } from '../hosts/route-writer.js';
import type { BuildMetrics } from './build-metrics.js';
import type { StatusPublisher } from '../deployments/status-publisher.js';
import { parseMessage } from './parse-message.js';

/** The worker's cancel path ends with this error; a cancel the user asked for stays `cancelled`. */
export const CANCELLED_ERROR = 'Build cancelled';
const CONSUMER = 'control-plane-build-events';

/**
 * Applies build workers' events to PostgreSQL, durably and in order. The consumer is durable,
 * so a restarted control plane resumes where it stopped; `lastEventSeq` on the row drops
 * anything applied before (a redelivery after a crash between update and ack).
 *
 * On `uploaded`, the route records are written first and the deployment marked ready after:
 * a deployment is never `ready` before visitors can reach it.
 */
export class BuildEventConsumer {
  private messages: ConsumerMessages | undefined;
  private done: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      nats: NatsConnection;
      db: Db;
      routes: RouteWriter;
      status: StatusPublisher;
      log: FastifyBaseLogger;
      metrics?: BuildMetrics;
    },
  ) {}

  async start(): Promise<void> {
    const jsm = await jetstreamManager(this.deps.nats);
    await jsm.consumers.add(STREAMS.buildEvents, {
      durable_name: CONSUMER,
      filter_subject: subjects.buildEventsAll,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30 * 1e9,
      // One at a time: events of a deployment are applied in the order they were published.
      max_ack_pending: 1,
    });
    const consumer = await jetstream(this.deps.nats).consumers.get(STREAMS.buildEvents, CONSUMER);
    this.messages = await consumer.consume({ max_messages: 64 });
    this.done = (async () => {
      for await (const msg of this.messages!) {
        const parsed = parseMessage(BuildEventSchema, msg.string());
        if (!parsed.success) {
          this.deps.log.error({ subject: msg.subject }, 'dropping a malformed build event');
          msg.term();
          continue;
        }
        try {
          await this.apply(parsed.data);
          msg.ack();
        } catch (err) {
          this.deps.log.error({ err, event: parsed.data.type }, 'applying a build event failed; will retry');
          msg.nak(1_000);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await this.done;
  }

  async apply(event: BuildEvent): Promise<void> {
    const d = await this.deps.db.deployment.findUnique({
      where: { id: event.deploymentId },
      include: { project: { include: { domains: true } } },
    });
    if (!d || event.seq <= d.lastEventSeq) return;
    if (TERMINAL_STATUSES.has(d.status)) {
      // Cancelled, or failed by the watchdog: late events change nothing but the cursor.
      await this.advance(event, {});
      return;
    }
    switch (event.type) {
      case 'started':
      case 'heartbeat':
        await this.advance(event, { lastHeartbeatAt: new Date(event.at) });
        return;
      case 'phase':
        if (await this.advance(event, { phase: event.phase, lastHeartbeatAt: new Date(event.at) })) {
          this.deps.status.publish({ id: d.id, status: 'building', phase: event.phase, error: null });
        }
        return;
      case 'commit':
        await this.advance(event, { commitSha: event.commitSha });
        return;
      case 'progress':
        await this.advance(event, {
          uploadedBytes: BigInt(event.uploadedBytes),
          totalBytes: BigInt(event.totalBytes),
          lastHeartbeatAt: new Date(event.at),
        });
        return;
      case 'failed': {
        const cancelled = event.error === CANCELLED_ERROR;
        const data = {
          status: cancelled ? 'cancelled' : 'error',
          error: event.error,
          finishedAt: new Date(event.at),
        } as const;
        if (await this.advance(event, data)) {
          this.deps.status.publish({ id: d.id, status: data.status, phase: null, error: event.error });
        }
        return;
      }
      case 'uploaded': {
        await this.deps.db.deployment.update({ where: { id: d.id }, data: { phase: 'activate' } });
        this.deps.status.publish({ id: d.id, status: 'building', phase: 'activate', error: null });
        const started = performance.now();
        await this.deps.routes.publishDeployment(d.project, d);
        await this.deps.routes.publishProduction(d.project, d);
        const activateMs = Math.round(performance.now() - started);
        await this.deps.db.$transaction([
          this.deps.db.project.update({ where: { id: d.projectId }, data: { productionDeploymentId: d.id } }),
          this.deps.db.deployment.update({
            where: { id: d.id },
            data: {
              status: 'ready',
              phase: null,
              outputDir: event.outputDir,
              files: event.stats.files,
              bytes: BigInt(event.stats.bytes),
              uploadedBytes: BigInt(event.stats.uploadedBytes),
              phaseDurationsMs: { ...event.stats.phaseDurationsMs, activate: activateMs },
              finishedAt: new Date(),
              lastEventSeq: event.seq,
            },
          }),
        ]);
        this.deps.status.publish({ id: d.id, status: 'ready', phase: null, error: null });
        this.deps.metrics?.succeeded({
          ...event.stats,
          phaseDurationsMs: { ...event.stats.phaseDurationsMs, activate: activateMs },
        });
        return;
      }
    }
  }

  /** Applies `data` only if this event is newer than the last one applied; true when it was. */
  private async advance(event: BuildEvent, data: Prisma.DeploymentUpdateManyMutationInput): Promise<boolean> {
    const { count } = await this.deps.db.deployment.updateMany({
      where: { id: event.deploymentId, lastEventSeq: { lt: event.seq } },
      data: { ...data, lastEventSeq: event.seq },
    });
    return count === 1;
  }
}

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
  type BuildStats,
} from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import type { FastifyBaseLogger } from 'fastify';
import type { DeploymentStateMachine } from '../deployments/deployment-state-machine.js';
import type { RouteWriter } from '../hosts/route-writer.js';
import type { BuildMetrics } from './build-metrics.js';
import { parseMessage } from './parse-message.js';

/** The preset, cache and clone size a worker reported, as deployment columns (absent: unchanged). */
function reportedStats(stats: BuildStats) {
  return {
    ...(stats.preset ? { preset: stats.preset } : {}),
    ...(stats.cache ? { cache: stats.cache } : {}),
    ...(stats.cloneBytes !== undefined ? { cloneBytes: BigInt(stats.cloneBytes) } : {}),
  };
}

/** The worker's cancel path ends with this error; a cancel the user asked for stays `cancelled`. */
export const CANCELLED_ERROR = 'Build cancelled';
const CONSUMER = 'control-plane-build-events';

/**
 * Applies build workers' events to PostgreSQL, durably and in order. The consumer is durable,
 * so a restarted control plane resumes where it stopped; `lastEventSeq` on the row drops
 * anything applied before (a redelivery after a crash between update and ack).
 *
 * Every status change goes through the state machine, guarded by the status it leaves: an event
 * that arrives after a cancel or a watchdog failure changes nothing. On `uploaded`, the
 * deployment's own host record is written first; production is switched and `ready` written
 * together, under the deployment's row lock (DeploymentStateMachine.ready).
 */
export class BuildEventConsumer {
  private messages: ConsumerMessages | undefined;
  private done: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      nats: NatsConnection;
      db: Db;
      routes: RouteWriter;
      state: DeploymentStateMachine;
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
    // Applied before (a redelivery), or about a deployment that is gone or already finished:
    // cancelled, or failed by the watchdog. The guarded transitions below would refuse it too.
    if (!d || event.seq <= d.lastEventSeq || TERMINAL_STATUSES.has(d.status)) return;
    const { state } = this.deps;
    const cursor = { seq: event.seq };
    const at = new Date(event.at);
    // Only an ECS task's worker reports these (from its task's stats); a local build is measured
    // by its runner (BuildPipeline.settleAfterExit), so no build is counted twice.
    if ('stats' in event && event.stats?.resources) {
      this.deps.metrics?.buildResources(event.stats.resources, event.stats.resources.source);
    }
    switch (event.type) {
      case 'started':
      case 'heartbeat':
        await state.note(d.id, { lastHeartbeatAt: at }, cursor);
        return;
      case 'phase':
        await state.phase(d.id, event.phase, { lastHeartbeatAt: at }, cursor);
        return;
      case 'commit':
        await state.note(d.id, { commitSha: event.commitSha }, cursor);
        return;
      case 'progress':
        await state.note(
          d.id,
          {
            uploadedBytes: BigInt(event.uploadedBytes),
            totalBytes: BigInt(event.totalBytes),
            lastHeartbeatAt: at,
          },
          cursor,
        );
        return;
      case 'skipped': {
        // The ignored build step exited 0: nothing was uploaded, and nothing is published.
        const fields = event.stats ? reportedStats(event.stats) : {};
        await state.ignoreBuild(d.id, event.reason, { cursor, at, fields });
        return;
      }
      case 'failed': {
        const fields = event.stats ? reportedStats(event.stats) : {};
        if (event.error === CANCELLED_ERROR) await state.cancel(d.id, event.error, { cursor, at, fields });
        else await state.fail(d.id, event.error, { cursor, at, fields });
        return;
      }
      case 'uploaded': {
        // What the build detected and restored is shown from here on, ready or not.
        if (!(await state.phase(d.id, 'activate', reportedStats(event.stats)))) return;
        const started = performance.now();
        await this.deps.routes.publishDeployment(d.project, d);
        const phaseDurationsMs = { ...event.stats.phaseDurationsMs };
        const ready = await state.ready(
          d.id,
          {
            outputDir: event.outputDir,
            files: event.stats.files,
            bytes: BigInt(event.stats.bytes),
            uploadedBytes: BigInt(event.stats.uploadedBytes),
            phaseDurationsMs,
          },
          async () => {
            await this.deps.routes.publishProduction(d.project, d);
            // Measured up to the switch itself, inside the transaction that records it.
            phaseDurationsMs.activate = Math.round(performance.now() - started);
          },
          cursor,
        );
        if (ready) this.deps.metrics?.succeeded({ ...event.stats, phaseDurationsMs });
        return;
      }
    }
  }
}

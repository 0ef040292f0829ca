import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type Consumer,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { BuildJobSchema, STREAMS, subjects, type BuildSpec } from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import type { FastifyBaseLogger } from 'fastify';
import type { StatusPublisher } from '../deployments/status-publisher.js';
import { parseMessage } from './parse-message.js';
import type { BuildHandle, BuildRunner } from './build-runner.js';

export interface DispatcherDeps {
  nats: NatsConnection;
  db: Db;
  runner: BuildRunner;
  status: StatusPublisher;
  log: FastifyBaseLogger;
  /** Builds the spec (with the decrypted env and the storage targets) for a claimed deployment. */
  specFor(deploymentId: string): Promise<BuildSpec>;
  /** Called when a build process ends, to settle a deployment its worker left unfinished. */
  onExit(deploymentId: string, exit: { code: number | null; signal: string | null }): Promise<void>;
}

/** Waits this long before offering a job again whose project already has a build running. */
const PROJECT_BUSY_RETRY_MS = 1_000;
const FETCH_EXPIRES_MS = 1_000;

/**
 * Consumes one region's build jobs, `concurrency` at a time. Each slot takes a job, claims the
 * deployment (queued → building, at most one building per project), starts it through the
 * runner, acks the job, and takes the next only when that build has ended.
 */
export class RegionDispatcher {
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  readonly running = new Map<string, BuildHandle>();

  constructor(
    private readonly region: string,
    private readonly concurrency: number,
    private readonly deps: DispatcherDeps,
  ) {}

  get consumerName(): string {
    return `dispatch-${this.region}`;
  }

  async start(): Promise<void> {
    const jsm = await jetstreamManager(this.deps.nats);
    await jsm.consumers.add(STREAMS.builds, {
      durable_name: this.consumerName,
      filter_subject: subjects.buildJobsForRegion(this.region),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 60 * 1e9,
    });
    const consumer = await jetstream(this.deps.nats).consumers.get(STREAMS.builds, this.consumerName);
    for (let slot = 0; slot < this.concurrency; slot++) this.loops.push(this.loop(consumer));
  }

  /** Stops taking jobs; running builds are left to the caller (see stopBuilds). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async loop(consumer: Consumer): Promise<void> {
    while (!this.stopped) {
      let msg: JsMsg | null = null;
      try {
        msg = await consumer.next({ expires: FETCH_EXPIRES_MS });
      } catch (err) {
        if (this.stopped) return;
        this.deps.log.warn({ err, region: this.region }, 'fetching a build job failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (!msg) continue;
      try {
        await this.handle(msg);
      } catch (err) {
        this.deps.log.error({ err, region: this.region }, 'dispatching a build failed');
        msg.nak(PROJECT_BUSY_RETRY_MS);
      }
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const parsed = parseMessage(BuildJobSchema, msg.string());
    if (!parsed.success) {
      this.deps.log.error({ subject: msg.subject }, 'dropping a malformed build job');
      msg.term();
      return;
    }
    const { deploymentId } = parsed.data;
    const claim = await this.claim(deploymentId);
    if (claim === 'busy') {
      msg.nak(PROJECT_BUSY_RETRY_MS);
      return;
    }
    if (claim === 'gone') {
      msg.ack(); // cancelled, superseded or already taken: nothing to build
      return;
    }
    this.deps.status.publish({ id: deploymentId, status: 'building', phase: 'clone', error: null });

    let handle: BuildHandle;
    try {
      handle = await this.deps.runner.start(await this.deps.specFor(deploymentId));
    } catch (err) {
      this.deps.log.error({ err, deploymentId }, 'could not start a build');
      const error = `the build could not be started: ${(err as Error).message}`;
      await this.deps.db.deployment.updateMany({
        where: { id: deploymentId, status: 'building' },
        data: { status: 'error', error, finishedAt: new Date() },
      });
      this.deps.status.publish({ id: deploymentId, status: 'error', phase: null, error });
      msg.ack();
      return;
    }
    msg.ack();
    this.running.set(deploymentId, handle);
    const exit = await handle.exited;
    this.running.delete(deploymentId);
    await this.deps.onExit(deploymentId, exit).catch((err) => {
      this.deps.log.error({ err, deploymentId }, 'settling a finished build failed');
    });
  }

  /**
   * queued → building, in a transaction holding the project's advisory lock, so two slots (or
   * two control planes) never start two builds of one project.
   */
  private async claim(deploymentId: string): Promise<'claimed' | 'busy' | 'gone'> {
    return this.deps.db.$transaction(async (tx) => {
      const d = await tx.deployment.findUnique({
        where: { id: deploymentId },
        select: { projectId: true, status: true },
      });
      if (!d || d.status !== 'queued') return 'gone';
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${d.projectId}))`;
      const busy = await tx.deployment.count({ where: { projectId: d.projectId, status: 'building' } });
      if (busy > 0) return 'busy';
      const now = new Date();
      const { count } = await tx.deployment.updateMany({
        where: { id: deploymentId, status: 'queued' },
        data: { status: 'building', phase: 'clone', startedAt: now, lastHeartbeatAt: now },
      });
      return count === 1 ? 'claimed' : 'gone';
    });
  }
}

import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type Consumer,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { BuildJobSchema, STREAMS, subjects } from '@deploysphere/contracts';
import type { FastifyBaseLogger } from 'fastify';
import type { DeploymentStateMachine } from '../deployments/deployment-state-machine.js';
import { parseMessage } from './parse-message.js';
import type { BuildExit, BuildHandle, BuildRunner } from './build-runner.js';

export interface DispatcherDeps {
  nats: NatsConnection;
  state: DeploymentStateMachine;
  runner: BuildRunner;
  log: FastifyBaseLogger;
  /**
   * A one-time bootstrap token for a claimed deployment: the only secret a launch carries. The
   * worker exchanges it for its spec (build-sessions/).
   */
  issueBootstrap(deploymentId: string): Promise<string>;
  /**
   * Records where the build runs before it starts (runner kind and region), so a control plane
   * that restarts while the runner is still starting it knows where to look.
   */
  recordRunner(deploymentId: string, runner: { kind: string; region: string }): Promise<void>;
  /** Called when a build process ends, to settle a deployment its worker left unfinished. */
  onExit(deploymentId: string, exit: BuildExit): Promise<void>;
  /**
   * For a job delivered again whose deployment is already `building`: `taken` when its claimer
   * died before launching the worker and this dispatcher now owns the launch, `wait` while that
   * cannot be told yet (BuildPipeline.takeOver).
   */
  takeOver?(deploymentId: string): Promise<'taken' | 'wait' | 'no'>;
}

/** Waits this long before offering a job again whose project already has a build running. */
const PROJECT_BUSY_RETRY_MS = 1_000;
const FETCH_EXPIRES_MS = 1_000;
/** Offers a job again this soon whose build may yet be taken over from a dead claimer. */
const TAKEOVER_RETRY_MS = 5_000;
/** Why a build this control plane was running ended when it shut down. */
export const STOPPED_DURING_BUILD = 'the control plane stopped during the build';

/**
 * Consumes one region's build jobs, `concurrency` at a time. Each slot takes a job, claims the
 * deployment (queued → building, at most one building per project), starts it through the
 * runner, acks the job, and takes the next only when that build has ended.
 */
export class RegionDispatcher {
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  readonly running = new Map<string, BuildHandle>();
  private readonly adopted = new Set<Promise<void>>();

  constructor(
    readonly region: string,
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

  /**
   * Stops taking jobs, then lets go of every build this dispatcher runs, including one a slot is
   * still starting: that slot sees `stopped` once its start returns and lets go of it itself.
   * A build that runs elsewhere (ECS) is released to run on, for another control plane (or this
   * one's next start) to adopt; one that lives in this process is failed and stopped. Resolves
   * when every slot has finished, so nothing of this process is left `building` or running.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.running.keys()].map((id) => this.leaveDuringShutdown(id)));
    await Promise.all([...this.loops, ...this.adopted]);
  }

  private async leaveDuringShutdown(deploymentId: string): Promise<void> {
    const handle = this.running.get(deploymentId);
    if (handle?.release) handle.release();
    else await this.stopDuringShutdown(deploymentId);
  }

  private async stopDuringShutdown(deploymentId: string): Promise<void> {
    const handle = this.running.get(deploymentId);
    try {
      await this.deps.state.fail(deploymentId, STOPPED_DURING_BUILD);
    } catch (err) {
      this.deps.log.error({ err, deploymentId }, 'could not record that the build was stopped');
    }
    try {
      await handle?.stop();
    } catch (err) {
      this.deps.log.error({ err, deploymentId }, 'stopping a build during shutdown failed');
    }
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
    const { deploymentId, projectSlug } = parsed.data;
    if (this.stopped) {
      msg.nak(); // another control plane (or the next start) takes it
      return;
    }
    const claim = await this.deps.state.claim(deploymentId);
    if (claim === 'busy') {
      msg.nak(PROJECT_BUSY_RETRY_MS);
      return;
    }
    if (claim === 'gone') {
      // Cancelled, superseded or already taken: nothing to build. Unless the job came back
      // because the control plane that took it died before launching its worker.
      const takeOver = msg.redelivered ? await this.deps.takeOver?.(deploymentId) : undefined;
      if (takeOver === 'wait') {
        msg.nak(TAKEOVER_RETRY_MS);
        return;
      }
      if (takeOver !== 'taken') {
        msg.ack();
        return;
      }
    }

    let handle: BuildHandle;
    try {
      await this.deps.recordRunner(deploymentId, { kind: this.deps.runner.name, region: this.region });
      const bootstrapToken = await this.deps.issueBootstrap(deploymentId);
      handle = await this.deps.runner.start({
        deploymentId,
        projectSlug,
        region: this.region,
        attempt: 1,
        bootstrapToken,
      });
    } catch (err) {
      this.deps.log.error({ err, deploymentId }, 'could not start a build');
      await this.deps.state.fail(deploymentId, `the build could not be started: ${(err as Error).message}`);
      msg.ack();
      return;
    }
    msg.ack();
    await this.follow(handle);
  }

  /**
   * Follows a build a previous control plane started (an ECS task found again after a restart)
   * as if this dispatcher had started it: shutdown stops it, its end settles its deployment. It
   * takes no slot: it was counted when it started, and holding a slot for it could starve the
   * queue after a restart with many builds in flight.
   */
  adopt(handle: BuildHandle): void {
    const following: Promise<void> = this.follow(handle)
      .catch((err: unknown) => {
        this.deps.log.error({ err, deploymentId: handle.deploymentId }, 'following an adopted build failed');
      })
      .finally(() => this.adopted.delete(following));
    this.adopted.add(following);
  }

  private async follow(handle: BuildHandle): Promise<void> {
    const { deploymentId } = handle;
    this.running.set(deploymentId, handle);
    // Shutdown began while this build was starting, after stop() looked at `running`.
    if (this.stopped) await this.leaveDuringShutdown(deploymentId);
    const exit = await handle.exited;
    this.running.delete(deploymentId);
    // Released, not ended: whoever adopts it settles it.
    if (exit.released) return;
    await this.deps.onExit(deploymentId, exit).catch((err) => {
      this.deps.log.error({ err, deploymentId }, 'settling a finished build failed');
    });
  }
}

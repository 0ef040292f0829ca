import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  BuildEventSchema,
  retryWithBackoff,
  STREAMS,
  subjects,
  type BuildEvent,
} from '@deploysphere/contracts';
import type { LogSink } from './log-sink.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as the build reports it; the reporter adds deploymentId, seq and at. */
export type BuildEventInput = DistributiveOmit<BuildEvent, 'deploymentId' | 'seq' | 'at'>;

/** Where build events go. `publish` resolves once the event is stored (or throws to be retried). */
export interface EventSink {
  publish(event: BuildEvent): Promise<void>;
}

/** Keeps events in memory, for tests. */
export class MemoryEventSink implements EventSink {
  readonly events: BuildEvent[] = [];

  async publish(event: BuildEvent): Promise<void> {
    this.events.push(BuildEventSchema.parse(event));
  }

  ofType<T extends BuildEvent['type']>(type: T): Extract<BuildEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<BuildEvent, { type: T }> => e.type === type);
  }
}

/** One JSON object per line on a stream (stdout by default): a runner can read events from it. */
export class NdjsonEventSink implements EventSink {
  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  async publish(event: BuildEvent): Promise<void> {
    this.out.write(`${JSON.stringify(event)}\n`);
  }
}

/**
 * Publishes to `builds.events.<deploymentId>` on the BUILD_EVENTS stream (which the control plane
 * creates). `Nats-Msg-Id` is `<deploymentId>:<seq>`, so a retried publish is stored once.
 */
export class JetStreamEventSink implements EventSink {
  private readonly js: JetStreamClient;

  constructor(nc: NatsConnection) {
    this.js = jetstream(nc);
  }

  async publish(event: BuildEvent): Promise<void> {
    const valid = BuildEventSchema.parse(event);
    await this.js.publish(subjects.buildEvent(valid.deploymentId), JSON.stringify(valid), {
      msgID: `${valid.deploymentId}:${valid.seq}`,
      expect: { streamName: STREAMS.buildEvents },
    });
  }
}

/**
 * Numbers a build's events gaplessly (from 1, or from the first seq the control plane gave this
 * attempt) and publishes them strictly in order. An event that
 * fails to publish keeps its seq and is retried (same Nats-Msg-Id, so never stored twice) before
 * anything after it, so the consumer never sees a gap.
 */
export class BuildReporter {
  private seq = 0;
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private closed = false;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Set once an event could not be published in time: later events would leave a gap, so none go out. */
  undeliverable: Error | undefined;

  constructor(
    readonly deploymentId: string,
    private readonly sink: EventSink,
    private readonly logs: LogSink,
    private readonly retry = { baseDelayMs: 200, maxDelayMs: 5000, giveUpAfterMs: 120_000 },
    /** A restarted attempt continues after the events its deployment already has. */
    firstSeq = 1,
  ) {
    this.seq = firstSeq - 1;
  }

  /** Resolves when the event is published. */
  emit(input: BuildEventInput): Promise<void> {
    const event = BuildEventSchema.parse({
      ...input,
      deploymentId: this.deploymentId,
      seq: ++this.seq,
      at: new Date().toISOString(),
    });
    this.pending++;
    const run = this.chain.then(() => this.publishUntilStored(event));
    this.chain = run
      .catch(() => undefined)
      .finally(() => {
        this.pending--;
      });
    return run;
  }

  private async publishUntilStored(event: BuildEvent): Promise<void> {
    if (this.undeliverable) throw this.undeliverable;
    try {
      await retryWithBackoff(() => this.sink.publish(event), {
        ...this.retry,
        shouldRetry: () => !this.closed,
        onRetry: (err) =>
          this.logs.write(
            'system',
            `Publishing ${event.type} event #${event.seq} failed (${String(err)}); retrying`,
          ),
      });
    } catch (err) {
      this.undeliverable = new Error(
        `Build event #${event.seq} (${event.type}) could not be published: ${String(err)}`,
      );
      throw this.undeliverable;
    }
  }

  /** Heartbeats every `intervalMs`, skipped while earlier events are still queued. */
  startHeartbeat(intervalMs: number): void {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      if (this.pending === 0) void this.emit({ type: 'heartbeat' }).catch(() => undefined);
    }, intervalMs);
    this.heartbeat.unref();
  }

  stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Waits for queued events, then stops retrying. */
  async close(timeoutMs = 30_000): Promise<void> {
    this.stopHeartbeat();
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.chain.then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
    if (timer) clearTimeout(timer);
    this.closed = true;
    if (!drained && !this.undeliverable) {
      this.undeliverable = new Error(
        `${this.pending} build event(s) were still unpublished ${timeoutMs} ms after the build ended`,
      );
    }
  }
}

/**
 * Calls `onCancel` when a message arrives on core NATS `builds.cancel.<deploymentId>`.
 * Returns a function that stops listening.
 */
export function listenForCancel(nc: NatsConnection, deploymentId: string, onCancel: () => void): () => void {
  const sub: Subscription = nc.subscribe(subjects.buildCancel(deploymentId), {
    callback: (err) => {
      if (!err) onCancel();
    },
  });
  return () => sub.unsubscribe();
}

import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  logBatchMsgId,
  retryWithBackoff,
  STREAMS,
  subjects,
  type LogBatch,
  type LogEntry,
  type LogStreamName,
} from '@deploysphere/contracts';
import type { LogSink, LogStream } from './log-sink.js';
import { MaskingLogSink } from './secret-masker.js';

/** Where sealed batches go. `publish` resolves once the batch is stored, or throws to be retried. */
export interface LogBatchTransport {
  publish(subject: string, payload: string, msgId: string): Promise<void>;
}

/**
 * Publishes to the BUILD_LOGS stream (which the control plane creates). The stream dedupes on
 * `Nats-Msg-Id` within its duplicate window, so a batch retried after a lost ack is stored once.
 */
export function jetStreamLogTransport(nc: NatsConnection, timeoutMs = 5000): LogBatchTransport {
  const js = jetstream(nc, { timeout: timeoutMs });
  return {
    async publish(subject, payload, msgId) {
      await js.publish(subject, payload, { msgID: msgId, expect: { streamName: STREAMS.buildLogs } });
    },
  };
}

export interface LogPublisherOptions {
  deploymentId: string;
  /** Masked before a line is numbered (see MaskingLogSink): the project's env values. */
  secrets?: Iterable<string>;
  /** A batch is sealed at this many lines... */
  maxBatchLines?: number;
  /** ...or this many bytes of JSON (well under NATS's 1 MiB message limit)... */
  maxBatchBytes?: number;
  /** ...or this long after its first line, so a quiet build still streams promptly. */
  maxDelayMs?: number;
  /** Publishes awaiting their JetStream ack. */
  maxInFlight?: number;
  /**
   * Lines waiting to be published, in bytes. Past it new lines are dropped and counted, and a
   * system line says how many once publishing catches up: the build itself is never blocked.
   */
  maxBufferedBytes?: number;
  retry?: { baseDelayMs: number; maxDelayMs: number; giveUpAfterMs: number };
  /** Where the publisher reports its own trouble (never into the log it failed to publish). */
  onWarning?: (message: string) => void;
}

interface SealedBatch {
  firstSeq: number | 'end';
  payload: string;
  bytes: number;
}

export interface LogPublisherResult {
  lastSeq: number;
  /** Every line and the end marker were stored. */
  delivered: boolean;
  dropped: number;
}

/**
 * The build worker's log sink for JetStream: numbers lines gaplessly from 1, batches them into
 * messages (`Nats-Msg-Id` `<deploymentId>:<firstSeq>`), keeps at most `maxInFlight` publishes
 * unacknowledged and retries failed ones with the same id. `close()` flushes everything and sends
 * the end marker; call it before the process exits.
 */
export class LogPublisher implements LogSink {
  private readonly deploymentId: string;
  private readonly subject: string;
  private readonly input: LogSink;
  private readonly masking: MaskingLogSink | undefined;
  private readonly maxBatchLines: number;
  private readonly maxBatchBytes: number;
  private readonly maxDelayMs: number;
  private readonly maxInFlight: number;
  private readonly maxBufferedBytes: number;
  private readonly retry: NonNullable<LogPublisherOptions['retry']>;
  private readonly warn: (message: string) => void;

  private seq = 0;
  private batch: LogEntry[] = [];
  private batchBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: SealedBatch[] = [];
  private inFlight = 0;
  private bufferedBytes = 0;
  private dropped = 0;
  private droppedUnreported = 0;
  private closed = false;
  private failure: Error | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly transport: LogBatchTransport,
    opts: LogPublisherOptions,
  ) {
    this.deploymentId = opts.deploymentId;
    this.subject = subjects.buildLog(opts.deploymentId);
    this.maxBatchLines = opts.maxBatchLines ?? 500;
    this.maxBatchBytes = opts.maxBatchBytes ?? 256 * 1024;
    this.maxDelayMs = opts.maxDelayMs ?? 10;
    this.maxInFlight = opts.maxInFlight ?? 32;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.retry = opts.retry ?? { baseDelayMs: 100, maxDelayMs: 2000, giveUpAfterMs: 120_000 };
    this.warn = opts.onWarning ?? ((m) => process.stderr.write(`log publisher: ${m}\n`));
    const raw: LogSink = { write: (stream, line) => this.append(stream, line) };
    const secrets = opts.secrets ? [...opts.secrets] : [];
    this.masking = secrets.length > 0 ? new MaskingLogSink(secrets, raw) : undefined;
    this.input = this.masking ?? raw;
  }

  /** The seq of the last line numbered so far. */
  get lastSeq(): number {
    return this.seq;
  }

  write(stream: LogStream, line: string): void {
    if (this.closed) return;
    this.input.write(stream, line);
  }

  /** Seals the open batch and resolves once everything sealed so far is stored (or given up). */
  async flush(): Promise<void> {
    this.masking?.flushHeld();
    this.seal();
    await this.idle();
  }

  /**
   * Flushes, publishes the end marker and waits for every ack. Never throws: logs must not fail
   * a build, so the result says whether everything was delivered.
   */
  async close(timeoutMs = 30_000): Promise<LogPublisherResult> {
    if (!this.closed) {
      this.masking?.flushHeld();
      this.reportDropped();
      this.closed = true;
      this.seal();
      const end: LogBatch = { v: 1, deploymentId: this.deploymentId, lines: [], end: { lastSeq: this.seq } };
      this.enqueue({ firstSeq: 'end', payload: JSON.stringify(end), bytes: 0 });
    }
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.idle().then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!drained && !this.failure) {
      this.failure = new Error(`log batches were still unpublished ${timeoutMs} ms after the build ended`);
      this.warn(this.failure.message);
    }
    return { lastSeq: this.seq, delivered: drained && !this.failure, dropped: this.dropped };
  }

  private append(stream: LogStreamName, message: string): void {
    const bytes = message.length + 64;
    if (this.failure || this.bufferedBytes + bytes > this.maxBufferedBytes) {
      // Dropped lines take no seq, so the sequence stays gapless; the count is reported below.
      this.dropped++;
      this.droppedUnreported++;
      return;
    }
    if (this.droppedUnreported > 0 && this.bufferedBytes < this.maxBufferedBytes / 2) this.reportDropped();
    this.push(stream, message, bytes);
  }

  private reportDropped(): void {
    if (this.droppedUnreported === 0) return;
    const message = `${this.droppedUnreported} log line(s) were dropped because publishing fell behind`;
    this.droppedUnreported = 0;
    this.push('system', message, message.length + 64);
  }

  private push(stream: LogStreamName, message: string, bytes: number): void {
    this.batch.push({ seq: ++this.seq, ts: new Date().toISOString(), stream, message });
    this.batchBytes += bytes;
    this.bufferedBytes += bytes;
    if (this.batch.length >= this.maxBatchLines || this.batchBytes >= this.maxBatchBytes) {
      this.seal();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.seal(), this.maxDelayMs);
    }
  }

  private seal(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.length === 0) return;
    const batch: LogBatch = { v: 1, deploymentId: this.deploymentId, lines: this.batch };
    const sealed = { firstSeq: this.batch[0]!.seq, payload: JSON.stringify(batch), bytes: this.batchBytes };
    this.batch = [];
    this.batchBytes = 0;
    this.enqueue(sealed);
  }

  private enqueue(batch: SealedBatch): void {
    this.queue.push(batch);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.shift()!;
      this.inFlight++;
      void this.publishUntilStored(batch).finally(() => {
        this.inFlight--;
        this.bufferedBytes -= batch.bytes;
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const w of waiters) w();
        }
      });
    }
  }

  private idle(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async publishUntilStored(batch: SealedBatch): Promise<void> {
    const msgId = logBatchMsgId(this.deploymentId, batch.firstSeq);
    if (this.failure) return;
    try {
      await retryWithBackoff(() => this.transport.publish(this.subject, batch.payload, msgId), {
        ...this.retry,
        shouldRetry: () => !this.failure,
      });
    } catch (err) {
      if (this.failure) return;
      // Later lines would leave a gap behind this one: stop publishing altogether.
      this.failure = new Error(`log batch ${msgId} could not be published: ${String(err)}`);
      this.warn(this.failure.message);
      this.queue.length = 0;
    }
  }
}

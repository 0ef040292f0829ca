import { createHash } from 'node:crypto';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { LogBatchSchema, retryWithBackoff, STREAMS, subjects, type LogLine } from '@deploysphere/contracts';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { AppContext } from '../context.js';
import { LogStore } from './log-store.js';
import { isConsumerNotFound } from '../infra/jetstream-errors.js';

const NS_PER_MS = 1_000_000;

export interface LogIngesterOptions {
  /** The durable consumer's name: every control plane replica shares it (pull, work split). */
  durableName?: string;
  /** Insert once this many rows are buffered (at least 1,000, so ClickHouse gets few big parts)... */
  flushRows?: number;
  /** ...or when the oldest buffered row is this old. */
  flushIntervalMs?: number;
  /** Unacked messages come back after this long; the ingester extends it while an insert retries. */
  ackWaitMs?: number;
  retry?: { baseDelayMs: number; maxDelayMs: number };
  /**
   * Awaited after an insert succeeded and before its messages are acked. Tests use it to crash
   * the ingester exactly there.
   */
  afterInsert?: (lines: readonly LogLine[]) => Promise<void> | void;
  onError?: (message: string, err: unknown) => void;
}

interface Pending {
  msg: JsMsg;
  lines: LogLine[];
}

function metrics(registry: Registry) {
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T) ?? make();
  return {
    lines: get(
      'build_logs_ingested_lines_total',
      () =>
        new Counter({
          name: 'build_logs_ingested_lines_total',
          help: 'Build log lines committed to ClickHouse',
          registers: [registry],
        }),
    ),
    duplicates: get(
      'build_logs_duplicate_lines_total',
      () =>
        new Counter({
          name: 'build_logs_duplicate_lines_total',
          help: 'Redelivered build log lines skipped because ClickHouse already had them',
          registers: [registry],
        }),
    ),
    failures: get(
      'build_logs_insert_failures_total',
      () =>
        new Counter({
          name: 'build_logs_insert_failures_total',
          help: 'Failed ClickHouse inserts of build logs (each is retried)',
          registers: [registry],
        }),
    ),
    insertSeconds: get(
      'build_logs_insert_duration_seconds',
      () =>
        new Histogram({
          name: 'build_logs_insert_duration_seconds',
          help: 'Duration of one ClickHouse insert of build logs',
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
          registers: [registry],
        }),
    ),
  };
}

/**
 * Moves build logs from BUILD_LOGS into ClickHouse. A durable pull consumer, batched inserts, and
 * acks only after the insert succeeded, so nothing is lost. Nothing is stored twice either:
 * - an insert retried after an error carries the same insert_deduplication_token;
 * - before every insert, the rows' seq ranges are looked up and lines already stored are skipped,
 *   which covers a crash between insert and ack (the messages come back, regrouped);
 * - the table is a ReplacingMergeTree on (deployment_id, seq), the backstop for races.
 */
export async function startLogIngester(
  ctx: Pick<AppContext, 'nats' | 'clickhouse' | 'metrics'>,
  opts: LogIngesterOptions = {},
): Promise<{ stop(): Promise<void> }> {
  const durable = opts.durableName ?? 'build-logs-ingester';
  const flushRows = Math.max(1000, opts.flushRows ?? 10_000);
  const flushIntervalMs = opts.flushIntervalMs ?? 250;
  const ackWaitMs = opts.ackWaitMs ?? 30_000;
  const retry = opts.retry ?? { baseDelayMs: 100, maxDelayMs: 2000 };
  const onError =
    opts.onError ?? ((message, err) => process.stderr.write(`log ingester: ${message}: ${String(err)}\n`));
  const store = new LogStore(ctx.clickhouse);
  const m = metrics(ctx.metrics);

  const config: Partial<ConsumerConfig> = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: subjects.buildLogsAll,
    ack_wait: ackWaitMs * NS_PER_MS,
    max_deliver: -1,
    // Bounds what one ingester holds unacked: a few flushes' worth of batches.
    max_ack_pending: 1000,
  };
  const jsm = await jetstreamManager(ctx.nats);
  try {
    await jsm.consumers.info(STREAMS.buildLogs, durable);
    await jsm.consumers.update(STREAMS.buildLogs, durable, {
      ack_wait: config.ack_wait!,
      max_ack_pending: config.max_ack_pending!,
    });
  } catch (err) {
    if (!isConsumerNotFound(err)) throw err;
    await jsm.consumers.add(STREAMS.buildLogs, config);
  }
  const consumer = await jetstream(ctx.nats).consumers.get(STREAMS.buildLogs, durable);

  let buffer: Pending[] = [];
  let bufferedRows = 0;
  let oldest = 0;
  let stopping = false;
  let stopDeadline = Number.POSITIVE_INFINITY;
  let chain: Promise<void> = Promise.resolve();

  const flush = async (): Promise<void> => {
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    bufferedRows = 0;
    const lines = batch.flatMap((p) => p.lines);
    const token = createHash('sha256')
      .update(batch.map((p) => p.msg.seq).join(','))
      .digest('hex');
    try {
      await retryWithBackoff(
        async () => {
          try {
            const fresh = await withoutStored(store, lines);
            m.duplicates.inc(lines.length - fresh.length);
            const end = m.insertSeconds.startTimer();
            await store.insert(fresh, token);
            end();
            m.lines.inc(fresh.length);
          } catch (err) {
            m.failures.inc();
            throw err;
          }
        },
        {
          ...retry,
          // Past the stop deadline the batch stays unacked: redelivered to whoever runs next.
          shouldRetry: () => Date.now() < stopDeadline,
          onRetry: (err: unknown) => {
            onError(`insert of ${lines.length} lines failed; retrying`, err);
            // Keep the messages ours while we retry, so they are not redelivered meanwhile.
            for (const p of batch) p.msg.working();
          },
        },
      );
    } catch {
      return;
    }
    await opts.afterInsert?.(lines);
    for (const p of batch) p.msg.ack();
  };
  const flushSerially = () => {
    chain = chain.then(flush).catch((err: unknown) => onError('flush failed', err));
    return chain;
  };

  const timer = setInterval(
    () => {
      if (buffer.length > 0 && Date.now() - oldest >= flushIntervalMs) void flushSerially();
    },
    Math.max(10, Math.floor(flushIntervalMs / 5)),
  );

  // Prefetch is bounded in messages (each up to 500 lines): what we buffer stays a few MiB.
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 200 });
  const loop = (async () => {
    for await (const msg of messages) {
      const parsed = LogBatchSchema.safeParse(safeJson(msg.data));
      if (!parsed.success) {
        onError(`dropping malformed message #${msg.seq} on ${msg.subject}`, parsed.error);
        msg.term();
        continue;
      }
      const { deploymentId } = parsed.data;
      const lines = parsed.data.lines.map((l) => ({ deploymentId, ...l }));
      if (buffer.length === 0) oldest = Date.now();
      buffer.push({ msg, lines });
      bufferedRows += lines.length;
      // Awaiting here is the back-pressure: no more pulls while ClickHouse is behind.
      if (bufferedRows >= flushRows) await flushSerially();
      if (stopping) break;
    }
  })().catch((err: unknown) => onError('consumer stopped', err));

  return {
    async stop() {
      stopping = true;
      clearInterval(timer);
      await messages.close().catch(() => undefined);
      await loop;
      // A last flush, bounded: what does not make it stays unacked and is redelivered.
      stopDeadline = Date.now() + 5000;
      await flushSerially();
    },
  };
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}

/** Drops the lines ClickHouse already holds (seq-range lookup per deployment). */
async function withoutStored(store: LogStore, lines: LogLine[]): Promise<LogLine[]> {
  const ranges = new Map<string, { min: number; max: number }>();
  for (const l of lines) {
    const r = ranges.get(l.deploymentId);
    if (!r) ranges.set(l.deploymentId, { min: l.seq, max: l.seq });
    else {
      r.min = Math.min(r.min, l.seq);
      r.max = Math.max(r.max, l.seq);
    }
  }
  const stored = await store.existing(ranges);
  const seen = new Set<string>();
  return lines.filter((l) => {
    const key = `${l.deploymentId}:${l.seq}`;
    if (stored.has(key) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

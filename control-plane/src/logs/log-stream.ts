import {
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  DiscardPolicy,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { STREAMS, subjects } from '@deploysphere/contracts';
import { isStreamNotFound } from '../infra/jetstream-errors.js';

const NS_PER_MS = 1_000_000;

/**
 * BUILD_LOGS: file storage, so a restarted nats-server keeps every unconsumed batch. Limits
 * retention: the ingester's durable consumer tracks what reached ClickHouse, and live viewers
 * replay recent builds from here, so messages stay until age or size pushes them out.
 */
export const LOG_STREAM_CONFIG: Partial<StreamConfig> & { name: string } = {
  name: STREAMS.buildLogs,
  subjects: [subjects.buildLogsAll],
  retention: RetentionPolicy.Limits,
  storage: StorageType.File,
  // Long enough for the ingester to be down a good while, short enough to bound the disk.
  max_age: 3 * 24 * 60 * 60 * 1000 * NS_PER_MS,
  max_bytes: 10 * 1024 * 1024 * 1024,
  // Past the size limit the oldest builds' batches go first; a running build is never refused.
  discard: DiscardPolicy.Old,
  max_msg_size: 1024 * 1024,
  // A batch retried after a lost ack within this window is stored once (Nats-Msg-Id).
  duplicate_window: 2 * 60 * 1000 * NS_PER_MS,
  num_replicas: 1,
};

/** Creates BUILD_LOGS, or brings an existing one to the current limits. Idempotent. */
export async function ensureLogStream(nats: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nats);
  try {
    await jsm.streams.info(LOG_STREAM_CONFIG.name);
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    await jsm.streams.add(LOG_STREAM_CONFIG);
    return;
  }
  await jsm.streams.update(LOG_STREAM_CONFIG.name, LOG_STREAM_CONFIG);
}

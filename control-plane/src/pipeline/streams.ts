import { RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { STREAMS, subjects } from '@deploysphere/contracts';
import { isStreamNotFound } from '../infra/jetstream-errors.js';

const DAY_NS = 24 * 60 * 60 * 1e9;
const MINUTE_NS = 60 * 1e9;

/**
 * The pipeline's streams. File storage everywhere: a restarted nats-server keeps queued builds
 * and unconsumed events (durability settings in docs/durability.md).
 */
export type StreamSpec = Partial<StreamConfig> & { name: string };

export const PIPELINE_STREAMS: StreamSpec[] = [
  {
    // A work queue: each job is removed once a dispatcher acks it. Nats-Msg-Id (the deployment
    // id) dedupes republishes inside the duplicate window; the dispatcher's claim covers the rest.
    name: STREAMS.builds,
    subjects: [subjects.buildJobsAll],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: 2 * MINUTE_NS,
    max_age: 7 * DAY_NS,
  },
  {
    name: STREAMS.buildEvents,
    subjects: [subjects.buildEventsAll],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: 2 * MINUTE_NS,
    max_age: 7 * DAY_NS,
    max_bytes: 1024 * 1024 * 1024,
  },
];

export async function ensureStreams(jsm: JetStreamManager, streams = PIPELINE_STREAMS): Promise<void> {
  for (const config of streams) {
    try {
      await jsm.streams.info(config.name);
      await jsm.streams.update(config.name, config);
    } catch (err) {
      if (!isStreamNotFound(err)) throw err;
      await jsm.streams.add(config);
    }
  }
}

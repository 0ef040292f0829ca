import { RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { BuildEventSchema, STREAMS, subjects } from '@deploysphere/contracts';
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

/**
 * The seq of a deployment's newest build event in the stream, whether the consumer has applied it
 * or not; 0 when it has none. A restarted attempt numbers its events after it.
 */
export async function lastEventSeqInStream(jsm: JetStreamManager, deploymentId: string): Promise<number> {
  let msg;
  try {
    // null when the subject has no message (v3 answers NoMessageFound that way).
    msg = await jsm.streams.getMessage(STREAMS.buildEvents, {
      last_by_subj: subjects.buildEvent(deploymentId),
    });
  } catch (err) {
    if (isStreamNotFound(err)) return 0; // no stream yet: no event was ever published
    throw err;
  }
  if (!msg) return 0;
  const parsed = BuildEventSchema.safeParse(msg.json());
  return parsed.success ? parsed.data.seq : 0;
}

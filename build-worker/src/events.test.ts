import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { errors, type NatsConnection } from '@nats-io/transport-node';
import { BuildEventSchema, STREAMS, subjects, type BuildEvent } from '@deploysphere/contracts';
import type { EmbeddedNats } from '@deploysphere/stack';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deploymentId, startNats, waitFor } from '../test/helpers.js';
import {
  BuildReporter,
  JetStreamEventSink,
  listenForCancel,
  MemoryEventSink,
  type EventSink,
} from './events.js';
import { CollectingLogSink } from './log-sink.js';

let nats: EmbeddedNats;
/** The control plane's side: creates the stream, reads what landed, sends cancels. */
let nc: NatsConnection;
let jsm: JetStreamManager;
const builds: NatsConnection[] = [];

beforeAll(async () => {
  nats = await startNats();
  nc = await nats.connect();
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAMS.buildEvents, subjects: [subjects.buildEventsAll] });
});

afterEach(async () => {
  for (const b of builds.splice(0)) await b.close();
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

/** The worker's side: a connection with the build's own credentials, as main.ts makes it. */
async function connectAsBuild(id: string): Promise<NatsConnection> {
  const b = await nats.connect({
    credentials: await nats.signer.mintBuildCredentials(id, 60_000),
    inboxPrefix: subjects.buildInboxPrefix(id),
  });
  builds.push(b);
  return b;
}

async function storedEvents(id: string): Promise<Array<{ event: BuildEvent; msgId: string | undefined }>> {
  const info = await jsm.streams.info(STREAMS.buildEvents);
  const out: Array<{ event: BuildEvent; msgId: string | undefined }> = [];
  const stream = await jetstream(nc).streams.get(STREAMS.buildEvents);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const msg = await stream.getMessage({ seq });
    if (!msg || msg.subject !== subjects.buildEvent(id)) continue;
    out.push({ event: BuildEventSchema.parse(msg.json()), msgId: msg.header?.get('Nats-Msg-Id') });
  }
  return out;
}

describe('JetStreamEventSink with BuildReporter', () => {
  it('publishes validated events with a gapless seq and Nats-Msg-Id <deploymentId>:<seq>', async () => {
    const id = deploymentId();
    const reporter = new BuildReporter(
      id,
      new JetStreamEventSink(await connectAsBuild(id)),
      new CollectingLogSink(),
    );
    await reporter.emit({ type: 'started' });
    await reporter.emit({ type: 'phase', phase: 'clone' });
    await reporter.emit({ type: 'commit', commitSha: 'a'.repeat(40) });
    reporter.startHeartbeat(100);
    await waitFor(async () => (await storedEvents(id)).some((e) => e.event.type === 'heartbeat'));
    reporter.stopHeartbeat();
    await reporter.emit({ type: 'failed', error: 'nope' });
    await reporter.close();

    const stored = await storedEvents(id);
    expect(stored.map((s) => s.event.seq)).toEqual(stored.map((_, i) => i + 1));
    expect(stored.map((s) => s.msgId)).toEqual(stored.map((s) => `${id}:${s.event.seq}`));
    expect(stored[0]?.event.type).toBe('started');
    expect(stored.at(-1)?.event).toMatchObject({ type: 'failed', error: 'nope', deploymentId: id });
  });

  it('stores a retried publish once', async () => {
    const id = deploymentId();
    const sink = new JetStreamEventSink(await connectAsBuild(id));
    const event: BuildEvent = { type: 'started', deploymentId: id, seq: 1, at: new Date().toISOString() };
    await sink.publish(event);
    await sink.publish(event);
    expect(await storedEvents(id)).toHaveLength(1);
  });

  it("is refused by the server when it publishes another deployment's event", async () => {
    const own = deploymentId();
    const other = deploymentId();
    const sink = new JetStreamEventSink(await connectAsBuild(own));
    const forged: BuildEvent = {
      type: 'failed',
      deploymentId: other,
      seq: 1,
      at: new Date().toISOString(),
      error: 'forged',
    };
    const err = await sink.publish(forged).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).cause).toBeInstanceOf(errors.PermissionViolationError);
    expect((err as Error).cause).toMatchObject({ operation: 'publish', subject: subjects.buildEvent(other) });
    expect(await storedEvents(other)).toEqual([]);
  });

  it('calls back on a cancel request', async () => {
    const id = deploymentId();
    const build = await connectAsBuild(id);
    let cancelled = 0;
    const stop = listenForCancel(build, id, () => cancelled++);
    await build.flush();
    nc.publish(subjects.buildCancel(deploymentId()), '');
    nc.publish(subjects.buildCancel(id), '');
    await waitFor(() => cancelled === 1);
    stop();
  });
});

describe('BuildReporter', () => {
  it('retries a failed publish with the same seq before anything after it', async () => {
    const memory = new MemoryEventSink();
    let failures = 2;
    const flaky: EventSink = {
      async publish(event) {
        if (event.seq === 2 && failures-- > 0) throw new Error('no responders');
        await memory.publish(event);
      },
    };
    const logs = new CollectingLogSink();
    const reporter = new BuildReporter(deploymentId(), flaky, logs, {
      baseDelayMs: 10,
      maxDelayMs: 20,
      giveUpAfterMs: 10_000,
    });
    const pending = [
      reporter.emit({ type: 'started' }),
      reporter.emit({ type: 'phase', phase: 'clone' }),
      reporter.emit({ type: 'phase', phase: 'install' }),
    ];
    await Promise.all(pending);
    expect(memory.events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'started'],
      [2, 'phase'],
      [3, 'phase'],
    ]);
    expect(logs.text()).toContain('Publishing phase event #2 failed');
  });

  it('gives up after its retry window and then publishes nothing more, so no gap can appear', async () => {
    const memory = new MemoryEventSink();
    const sink: EventSink = {
      async publish(event) {
        if (event.seq >= 2) throw new Error('no responders');
        await memory.publish(event);
      },
    };
    const reporter = new BuildReporter(deploymentId(), sink, new CollectingLogSink(), {
      baseDelayMs: 10,
      maxDelayMs: 20,
      giveUpAfterMs: 100,
    });
    await reporter.emit({ type: 'started' });
    await expect(reporter.emit({ type: 'phase', phase: 'clone' })).rejects.toThrow(
      /#2 \(phase\) could not be published/,
    );
    await expect(reporter.emit({ type: 'heartbeat' })).rejects.toThrow(/#2/);
    expect(reporter.undeliverable).toBeInstanceOf(Error);
    expect(memory.events.map((e) => e.seq)).toEqual([1]);
  });
});

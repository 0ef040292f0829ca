import { LOG_STREAM_CLOSE, STREAMS } from '@deploysphere/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, openLogStream, startHarness, type LogsHarness } from './logs-harness.js';

// A live log channel whose JetStream consumer dies must not leave its viewers waiting forever on
// a channel that never speaks again: they are told, and closed with "try again later".

let h: LogsHarness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('live logs when their consumer dies', () => {
  it('closes every viewer with a reason they can reconnect on', async () => {
    const id = await createDeployment(h.db, 'building');
    const a = openLogStream(h.base, id);
    const b = openLogStream(h.base, id);
    await Promise.all([a.opened, b.opened]);
    // Take the stream away under the channel's consumer.
    await (await jetstreamManager(h.nc)).streams.delete(STREAMS.buildLogs);

    for (const viewer of [a, b]) {
      expect((await viewer.closed).code).toBe(LOG_STREAM_CLOSE.interrupted);
      expect(viewer.messages.at(-1)).toMatchObject({ type: 'error', code: 'unavailable' });
    }
  });
});

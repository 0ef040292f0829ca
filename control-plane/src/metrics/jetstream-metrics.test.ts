import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type EmbeddedNats } from '@deploysphere/stack';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerJetStreamMetrics } from './jetstream-metrics.js';

let dir: string;
let server: EmbeddedNats;
let nc: NatsConnection;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-js-metrics-'));
  server = await startNatsServer({ storeDir: dir });
  nc = await server.connect();
});
afterAll(async () => {
  await nc?.drain();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('JetStream metrics', () => {
  it('reports streams and durable consumers: pending, unacknowledged and redelivered', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'WORK', subjects: ['work.>'] });
    const js = jetstream(nc);
    for (let i = 0; i < 5; i++) await js.publish('work.a', `job ${i}`);
    await jsm.consumers.add('WORK', {
      durable_name: 'workers',
      ack_policy: AckPolicy.Explicit,
      ack_wait: 1e9,
    });
    // Two taken and never acked: after ack_wait they are delivered again.
    const consumer = await js.consumers.get('WORK', 'workers');
    await consumer.next();
    await consumer.next();
    // An ephemeral consumer (as a live log view makes) is left out: its name is random.
    await jsm.consumers.add('WORK', { ack_policy: AckPolicy.None, inactive_threshold: 60e9 });

    const registry = new Registry();
    registerJetStreamMetrics(registry, nc);
    const text = await registry.metrics();
    expect(text).toContain('deploysphere_jetstream_stream_messages{stream="WORK"} 5');
    expect(text).toContain('deploysphere_jetstream_consumer_pending{stream="WORK",consumer="workers"} 3');
    expect(text).toContain('deploysphere_jetstream_consumer_ack_pending{stream="WORK",consumer="workers"} 2');
    expect(text.match(/deploysphere_jetstream_consumer_pending\{/g)).toHaveLength(1);

    // After ack_wait (1 s), pulling gets the unacknowledged messages again: redelivered.
    await expect
      .poll(
        async () => {
          await consumer.next({ expires: 1_000 });
          return registry.metrics();
        },
        { timeout: 15_000, interval: 200 },
      )
      .toMatch(/deploysphere_jetstream_consumer_redelivered\{stream="WORK",consumer="workers"\} [1-9]/);
  });
});

import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Gauge, type Registry } from 'prom-client';

/**
 * JetStream stream and consumer state, read from NATS at scrape time. Debian has no NATS
 * exporter, so the control plane exports these itself. Only durable consumers are labelled:
 * their names are the platform's own (dispatch-<region>, the event consumer, the log ingester),
 * while ephemeral ones (a live log view) come and go with random names and would make the
 * series count grow without bound.
 */
export function registerJetStreamMetrics(registry: Registry, nats: NatsConnection): void {
  let jsm: JetStreamManager | undefined;
  let pending: Promise<void> | undefined;
  const refresh = () =>
    (pending ??= read()
      .catch(() => undefined) // NATS away: the last values stay; readiness reports the outage
      .finally(() => setImmediate(() => (pending = undefined))));

  const gauge = (name: string, help: string, labelNames: readonly string[]) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect: refresh });
  const streamMessages = gauge('deploysphere_jetstream_stream_messages', 'Messages in the stream', [
    'stream',
  ]);
  const streamBytes = gauge('deploysphere_jetstream_stream_bytes', 'Bytes in the stream', ['stream']);
  const consumerPending = gauge(
    'deploysphere_jetstream_consumer_pending',
    'Messages the consumer has not been delivered yet (its lag)',
    ['stream', 'consumer'],
  );
  const consumerAckPending = gauge(
    'deploysphere_jetstream_consumer_ack_pending',
    'Messages delivered to the consumer and not acknowledged yet',
    ['stream', 'consumer'],
  );
  const consumerRedelivered = gauge(
    'deploysphere_jetstream_consumer_redelivered',
    'Messages delivered to the consumer more than once and still unacknowledged',
    ['stream', 'consumer'],
  );
  const all = [streamMessages, streamBytes, consumerPending, consumerAckPending, consumerRedelivered];

  async function read(): Promise<void> {
    if (nats.isClosed()) return;
    jsm ??= await jetstreamManager(nats);
    const streams = await jsm.streams.list().next();
    const consumers = await Promise.all(
      streams.map(async (s) => ({
        stream: s.config.name,
        list: await jsm!.consumers.list(s.config.name).next(),
      })),
    );
    for (const g of all) g.reset();
    for (const s of streams) {
      streamMessages.set({ stream: s.config.name }, s.state.messages);
      streamBytes.set({ stream: s.config.name }, s.state.bytes);
    }
    for (const { stream, list } of consumers) {
      for (const c of list) {
        if (!c.config.durable_name) continue;
        const labels = { stream, consumer: c.name };
        consumerPending.set(labels, c.num_pending);
        consumerAckPending.set(labels, c.num_ack_pending);
        consumerRedelivered.set(labels, c.num_redelivered);
      }
    }
  }
}

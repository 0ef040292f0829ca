import { connect, type NatsConnection } from '@nats-io/transport-node';

/** One connection per process; it reconnects forever, so a restarted nats-server is picked up again. */
export function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
}

import type { ClickHouseClient } from '@clickhouse/client';
import type { Db } from '@deploysphere/db';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import type { ControlPlaneConfig } from './config.js';
import type { RegionStorage } from './infra/storage.js';
import type { RouteStore } from './hosts/route-store.js';
import type { Outbox } from './accounts/outbox.js';

/** Everything the control plane's routes and services share, built once per process. */
export interface AppContext {
  config: ControlPlaneConfig;
  db: Db;
  nats: NatsConnection;
  clickhouse: ClickHouseClient;
  storage: RegionStorage;
  metrics: Registry;
  routes: RouteStore;
  /** Where messages to people go (password reset links); default: the log (LogOutbox). */
  outbox?: Outbox;
}

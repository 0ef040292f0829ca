import { createDb } from '@deploysphere/db';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ControlPlaneConfig } from './config.js';
import type { AppContext } from './context.js';
import { createClickHouse } from './infra/clickhouse.js';
import { connectNats } from './infra/nats.js';
import { RegionStorage } from './infra/storage.js';
import type { RouteStore } from './hosts/route-store.js';

export interface OwnedContext extends AppContext {
  close(): Promise<void>;
}

/** Connects to every dependency named in the config. close() releases them in reverse order. */
export async function createContext(config: ControlPlaneConfig, routes: RouteStore): Promise<OwnedContext> {
  const db = createDb(config.databaseUrl);
  const nats = await connectNats(config.natsUrl, 'control-plane', config.natsAuth);
  const clickhouse = createClickHouse(config.clickhouse);
  const storage = new RegionStorage(config.storage);
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  return {
    config,
    db,
    nats,
    clickhouse,
    storage,
    metrics,
    routes,
    async close() {
      storage.destroy();
      await clickhouse.close().catch(() => undefined);
      await nats.drain().catch(() => undefined);
      await db.$disconnect().catch(() => undefined);
    },
  };
}

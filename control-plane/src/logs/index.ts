export {
  migrateClickHouse,
  CLICKHOUSE_MIGRATIONS,
  type ClickHouseMigration,
} from '../infra/clickhouse-migrations.js';
export { startLogIngester, type LogIngesterOptions } from './log-ingester.js';
export { LogHub, type LogHubOptions } from './log-hub.js';
export { logRoutes } from './log-routes.js';
export { LogService, type LogServiceDeps } from './log-service.js';
export { LogStore } from './log-store.js';
export { ensureLogStream, LOG_STREAM_CONFIG } from './log-stream.js';

import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { registerBuildQueueMetrics } from './build-queue-metrics.js';
import { instrumentClickHouseInserts } from './clickhouse-metrics.js';
import { registerJetStreamMetrics } from './jetstream-metrics.js';
import { registerStorageMetrics } from './storage-metrics.js';

export {
  registerBuildQueueMetrics,
  instrumentClickHouseInserts,
  registerJetStreamMetrics,
  registerStorageMetrics,
};

/**
 * The platform's pipeline, queue and storage series (docs/observability.md), registered in the
 * app's registry, so /metrics renders them. The storage listing stops when the app closes.
 */
export function registerPlatformMetrics(fastify: FastifyInstance, ctx: AppContext): void {
  const regions = ctx.config.regions.map((r) => r.id);
  registerBuildQueueMetrics(ctx.metrics, ctx.db, regions);
  registerJetStreamMetrics(ctx.metrics, ctx.nats);
  instrumentClickHouseInserts(ctx.clickhouse, ctx.metrics);
  const storage = registerStorageMetrics(ctx.metrics, { storage: ctx.storage, db: ctx.db, regions });
  fastify.addHook('onClose', async () => storage.stop());
}

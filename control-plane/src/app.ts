import { fileURLToPath } from 'node:url';
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from './context.js';
import { edgeMetricsRoutes } from './edge-metrics/index.js';
import { ensureLogStream, logRoutes, migrateClickHouse, startLogIngester } from './logs/index.js';
import { requireAdminToken } from './plugins/auth.js';
import { session } from './session/session.js';
import { dashboard } from './plugins/dashboard.js';
import { errorHandler } from './plugins/error-handler.js';
import { httpMetrics } from './plugins/metrics.js';
import { healthRoutes } from './health/health-routes.js';
import { deploymentRoutes } from './deployments/deployment-routes.js';
import { projectRoutes } from './projects/project-routes.js';
import { regionRoutes } from './regions/region-routes.js';
import { sessionRoutes } from './session/session-routes.js';
import { siteRoutes } from './hosts/site-routes.js';
import { trafficRoutes } from './traffic/traffic-routes.js';
import { createServices } from './services.js';
import { TrafficStore } from './traffic/traffic-store.js';
import { ReadinessService } from './health/readiness.js';

export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url));

/** Request bodies above this answer 413; the largest legitimate body (a project with env) is far below. */
export const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * The control plane as a Fastify plugin. `server.ts` and the local platform only create the
 * instance, register this, and listen; tests register it on their own instance.
 */
export async function app(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  await fastify.register(errorHandler);
  await fastify.register(httpMetrics, { registry: ctx.metrics });
  await fastify.register(websocket);
  await fastify.register(session, { adminToken: ctx.config.adminToken });
  await fastify.register(sessionRoutes, { prefix: '/api/v1', adminToken: ctx.config.adminToken });

  const readiness = new ReadinessService({
    ...ctx,
    edgeUrl: ctx.config.edgeUrl,
    rootDomain: ctx.config.rootDomain,
  });
  await fastify.register(healthRoutes, { readiness });

  const traffic = new TrafficStore(ctx.clickhouse, ctx.config.rootDomain);
  if (ctx.config.edgeMetricsToken) {
    await fastify.register(edgeMetricsRoutes, {
      token: ctx.config.edgeMetricsToken,
      registry: ctx.metrics,
      onBatch: (batch) => traffic.record(batch),
    });
  }

  const services = createServices(ctx, fastify.log);
  let ingester: { stop(): Promise<void> } | undefined;
  fastify.addHook('onReady', async () => {
    await ensureLogStream(ctx.nats);
    await migrateClickHouse(ctx.clickhouse, { logRetentionDays: ctx.config.logRetentionDays });
    ingester = await startLogIngester(ctx);
    await services.pipeline.start();
  });
  fastify.addHook('onClose', async () => {
    await services.pipeline.stop();
    await ingester?.stop();
  });

  await fastify.register(
    async (api) => {
      requireAdminToken(api, ctx.config.adminToken);
      await api.register(regionRoutes, { config: ctx.config });
      await api.register(siteRoutes, { urls: services.urls, rootDomain: ctx.config.rootDomain });
      await api.register(projectRoutes, services);
      await api.register(deploymentRoutes, services);
      await api.register(logRoutes, { ctx });
      await api.register(trafficRoutes, { db: ctx.db, traffic });
    },
    { prefix: '/api/v1' },
  );

  await fastify.register(dashboard, { root: ctx.config.dashboardDir ?? DEFAULT_DASHBOARD_DIR });
}

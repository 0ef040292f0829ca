import fastify from 'fastify';
import { Registry } from 'prom-client';
import type { ZodType } from 'zod';
import { edgeMetricsRoutes } from '../../../control-plane/src/edge-metrics/index.js';
import { errorHandler } from '../../../control-plane/src/plugins/error-handler.js';

export interface MetricsControlPlane {
  /** What the edge's METRICS_URL points at. */
  url: string;
  token: string;
  /** The registry the control plane renders on /metrics. */
  registry: Registry;
  /** Every host the accepted batches named (what ClickHouse's per-project traffic receives). */
  hostsSeen: Set<string>;
  stop(): Promise<void>;
}

/**
 * The control plane's edge-metrics route and collectors on a free loopback port: the same code
 * that turns the edge's batches into the series on /metrics, without the rest of the app.
 */
export async function startMetricsControlPlane(token: string): Promise<MetricsControlPlane> {
  const registry = new Registry();
  const app = fastify();
  // The route declares its body and answers as zod schemas; the app validates them with zod.
  app.setValidatorCompiler<ZodType>(({ schema }) => (data) => {
    const result = schema.safeParse(data);
    return result.success ? { value: result.data } : { error: result.error };
  });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(errorHandler);
  const hostsSeen = new Set<string>();
  await app.register(edgeMetricsRoutes, {
    token,
    registry,
    onBatch: async (batch) => {
      for (const s of batch.series) hostsSeen.add(s.host);
    },
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, token, registry, hostsSeen, stop: () => app.close() };
}

import {
  AppError,
  EDGE_METRICS_PATH,
  EdgeMetricsBatchSchema,
  fromZodError,
  type EdgeMetricsBatch,
} from '@deploysphere/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { bearerToken, tokenMatches } from '../plugins/auth.js';
import { createEdgeMetrics } from './edge-metrics-collectors.js';

export interface EdgeMetricsRoutesOptions {
  /** The bearer token the edge sends (METRICS_TOKEN on the worker). */
  token: string;
  /** Where the `edge_*` series are registered; the app's /metrics renders this registry. */
  registry: Registry;
  maxHosts?: number;
  /** Also hands each accepted batch on (per-project traffic history); its failure is logged, not returned. */
  onBatch?: (batch: EdgeMetricsBatch) => Promise<void>;
}

/** A batch holds at most a few thousand label sets; anything larger is not from our edge. */
const BODY_LIMIT_BYTES = 2 * 1024 * 1024;

/**
 * `POST /internal/edge-metrics`: edge isolates ship their request counts here. Encapsulated on
 * purpose (no fastify-plugin): the bearer check applies to this route only. Errors are AppErrors,
 * answered by the app's error handler.
 */
export async function edgeMetricsRoutes(
  app: FastifyInstance,
  options: EdgeMetricsRoutesOptions,
): Promise<void> {
  if (options.token.length < 16) throw new Error('edgeMetricsRoutes needs a token of at least 16 characters');
  const metrics = createEdgeMetrics(options.registry, { maxHosts: options.maxHosts });

  app.addHook('onRequest', async (request: FastifyRequest) => {
    const presented = bearerToken(request);
    if (!presented || !tokenMatches(presented, options.token)) {
      throw AppError.unauthorized('A valid edge metrics token is required');
    }
  });

  app.post(EDGE_METRICS_PATH, { bodyLimit: BODY_LIMIT_BYTES }, async (request, reply) => {
    const parsed = EdgeMetricsBatchSchema.safeParse(request.body);
    if (!parsed.success) throw fromZodError(parsed.error);
    metrics.ingest(parsed.data);
    // The edge has nothing useful to do with a failure here, and Prometheus already has the counts.
    await options
      .onBatch?.(parsed.data)
      .catch((err: unknown) => request.log.warn({ err }, 'storing edge traffic failed'));
    return reply.status(204).send();
  });
}

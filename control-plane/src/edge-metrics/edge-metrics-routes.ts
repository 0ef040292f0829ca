import {
  AppError,
  EDGE_METRICS_PATH,
  EdgeMetricsBatchSchema,
  type EdgeMetricsBatch,
} from '@deploysphere/contracts';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { bearerToken, tokenMatches } from '../plugins/auth.js';
import { ERROR_RESPONSES, SECURITY } from '../plugins/openapi.js';
import { createEdgeMetrics } from './edge-metrics-collectors.js';

export interface EdgeMetricsRoutesOptions {
  /** The bearer token the edge sends (METRICS_TOKEN on the worker). */
  token: string;
  /** Where the `edge_*` series are registered; the app's /metrics renders this registry. */
  registry: Registry;
  /** The platform's region ids; any other region in a batch is counted as `_other`. */
  regions?: readonly string[];
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
export const edgeMetricsRoutes: FastifyPluginAsyncZod<EdgeMetricsRoutesOptions> = async (app, options) => {
  if (options.token.length < 16) throw new Error('edgeMetricsRoutes needs a token of at least 16 characters');
  const metrics = createEdgeMetrics(options.registry, { regions: options.regions });

  app.addHook('onRequest', async (request: FastifyRequest) => {
    const presented = bearerToken(request);
    if (!presented || !tokenMatches(presented, options.token)) {
      throw AppError.unauthorized('A valid edge metrics token is required');
    }
  });

  app.post(
    EDGE_METRICS_PATH,
    {
      bodyLimit: BODY_LIMIT_BYTES,
      schema: {
        summary: "The edge's request counts for one flush window",
        tags: ['operations'],
        security: SECURITY.edgeMetrics,
        body: EdgeMetricsBatchSchema,
        response: { 204: z.undefined(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      metrics.ingest(request.body);
      // The edge has nothing useful to do with a failure here, and Prometheus already has the counts.
      await options
        .onBatch?.(request.body)
        .catch((err: unknown) => request.log.warn({ err }, 'storing edge traffic failed'));
      return reply.status(204).send();
    },
  );
};

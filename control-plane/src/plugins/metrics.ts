import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Histogram, type Registry } from 'prom-client';
import { z } from 'zod';
import { SECURITY } from './openapi.js';

/** Request metrics for every route, labelled by route pattern (never the raw URL: unbounded). */
export const httpMetrics = fp(async (app: FastifyInstance, opts: { registry: Registry }) => {
  const duration = new Histogram({
    name: 'control_plane_http_request_duration_seconds',
    help: 'Control plane HTTP request latency by route and status code',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [opts.registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
});

/**
 * `GET /metrics` in Prometheus' text format. Apart from `httpMetrics`, which only measures: that
 * one is also registered where no zod schemas are (the observability workspace lists the series).
 */
export const metricsRoute: FastifyPluginAsyncZod<{ registry: Registry }> = async (app, opts) => {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        tags: ['operations'],
        security: SECURITY.public,
        response: { 200: { content: { 'text/plain': { schema: z.string() } } } },
      },
    },
    async (_request, reply) => {
      reply.header('content-type', opts.registry.contentType);
      return opts.registry.metrics();
    },
  );
};

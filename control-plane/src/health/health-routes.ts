import { HealthViewSchema, ReadinessViewSchema } from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { SECURITY } from '../plugins/openapi.js';

const tags = ['operations'];

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the process answers',
        tags,
        security: SECURITY.public,
        response: { 200: HealthViewSchema },
      },
    },
    async () => ({ ok: true as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: every dependency answers (503 names the ones that do not)',
        tags,
        security: SECURITY.public,
        response: { 200: ReadinessViewSchema, 503: ReadinessViewSchema },
      },
    },
    async (_request, reply) => {
      const report = await app.readiness.check();
      const down = Object.entries(report.checks)
        .filter(([, c]) => !c.ok)
        .map(([name]) => name);
      return reply.status(report.ok ? 200 : 503).send({ ...report, ...(down.length ? { down } : {}) });
    },
  );
};

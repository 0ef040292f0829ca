import type { FastifyInstance } from 'fastify';
import type { ReadinessService } from './readiness.js';

export async function healthRoutes(app: FastifyInstance, opts: { readiness: ReadinessService }) {
  app.get('/healthz', async () => ({ ok: true }));

  app.get('/readyz', async (_request, reply) => {
    const report = await opts.readiness.check();
    const down = Object.entries(report.checks)
      .filter(([, c]) => !c.ok)
      .map(([name]) => name);
    return reply.status(report.ok ? 200 : 503).send({ ...report, ...(down.length ? { down } : {}) });
  });
}

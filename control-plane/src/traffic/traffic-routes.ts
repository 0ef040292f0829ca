import { AppError, TrafficQuerySchema } from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import type { FastifyInstance } from 'fastify';
import type { TrafficStore } from './traffic-store.js';
import { parse, slugParam } from '../plugins/parse.js';

export async function trafficRoutes(app: FastifyInstance, opts: { db: Db; traffic: TrafficStore }) {
  app.get('/projects/:slug/traffic', async (request) => {
    const slug = slugParam(request.params);
    const { window } = parse(TrafficQuerySchema, request.query, 'query');
    const project = await opts.db.project.findUnique({ where: { slug }, include: { domains: true } });
    if (!project) throw AppError.notFound(`Project ${slug}`, 'slug');
    return opts.traffic.forProject(project, window);
  });
}

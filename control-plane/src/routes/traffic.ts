import { AppError, SlugSchema, TrafficQuerySchema } from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { TrafficStore } from '../traffic/traffic-store.js';
import { parse, pathParam } from './parse.js';

const SlugParams = z.object({ slug: z.string() });

export async function trafficRoutes(app: FastifyInstance, opts: { db: Db; traffic: TrafficStore }) {
  app.get('/projects/:slug/traffic', async (request) => {
    const { slug } = parse(SlugParams, request.params, 'params');
    pathParam(SlugSchema, slug, `Project ${slug}`, 'slug');
    const { window } = parse(TrafficQuerySchema, request.query, 'query');
    const project = await opts.db.project.findUnique({ where: { slug }, include: { domains: true } });
    if (!project) throw AppError.notFound(`Project ${slug}`, 'slug');
    return opts.traffic.forProject(project, window);
  });
}

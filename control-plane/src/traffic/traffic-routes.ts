import { ProjectParamsSchema, TrafficQuerySchema, TrafficViewSchema } from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ERROR_RESPONSES } from '../plugins/openapi.js';

export const trafficRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/projects/:slug/traffic',
    {
      schema: {
        summary: "A project's edge traffic: requests, 4xx and 5xx per region and time bucket",
        tags: ['projects'],
        params: ProjectParamsSchema,
        querystring: TrafficQuerySchema,
        response: { 200: TrafficViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => app.traffic.forProject(request.params.slug, request.query.window),
  );
};

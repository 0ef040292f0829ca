import { RegionSchema, type Region } from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERROR_RESPONSES } from '../plugins/openapi.js';

export const regionRoutes: FastifyPluginAsyncZod<{ regions: readonly Region[] }> = async (app, opts) => {
  const regions = opts.regions.map(({ id, name, latitude, longitude }) => ({
    id,
    name,
    latitude,
    longitude,
  }));
  app.get(
    '/regions',
    {
      schema: {
        summary: 'The regions a project can deploy to',
        tags: ['platform'],
        response: { 200: z.array(RegionSchema), ...ERROR_RESPONSES },
      },
    },
    async () => regions,
  );
};

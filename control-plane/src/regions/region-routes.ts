import type { FastifyInstance } from 'fastify';
import type { ControlPlaneConfig } from '../config.js';

export async function regionRoutes(app: FastifyInstance, opts: { config: ControlPlaneConfig }) {
  const regions = opts.config.regions.map(({ id, name, latitude, longitude }) => ({
    id,
    name,
    latitude,
    longitude,
  }));
  app.get('/regions', async () => regions);
}

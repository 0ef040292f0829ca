import { DeploymentIdSchema, QuickDeployBodySchema } from '@deploysphere/contracts';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DeploymentService } from '../services/deployment-service.js';
import { parse, pathParam } from './parse.js';

const IdParams = z.object({ id: z.string() });

export async function deploymentRoutes(app: FastifyInstance, opts: { deployments: DeploymentService }) {
  const { deployments } = opts;
  const idOf = (params: unknown) => {
    const { id } = parse(IdParams, params, 'params');
    return pathParam(DeploymentIdSchema, id, `Deployment ${id}`, 'id');
  };

  app.post('/deployments', async (request, reply) => {
    const body = parse(QuickDeployBodySchema, request.body);
    return reply.status(202).send(await deployments.quickDeploy(body));
  });

  app.get('/deployments/:id', async (request) => deployments.get(idOf(request.params)));

  app.post('/deployments/:id/cancel', async (request) => deployments.cancel(idOf(request.params)));
}

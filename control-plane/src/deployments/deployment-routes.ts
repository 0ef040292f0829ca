import { QuickDeployBodySchema } from '@deploysphere/contracts';
import type { FastifyInstance } from 'fastify';
import type { DeploymentService } from './deployment-service.js';
import { deploymentIdParam, parse } from '../plugins/parse.js';

export async function deploymentRoutes(app: FastifyInstance, opts: { deployments: DeploymentService }) {
  const { deployments } = opts;

  app.post('/deployments', async (request, reply) => {
    const body = parse(QuickDeployBodySchema, request.body);
    return reply.status(202).send(await deployments.quickDeploy(body));
  });

  app.get('/deployments/:id', async (request) => deployments.get(deploymentIdParam(request.params)));

  app.post('/deployments/:id/cancel', async (request) =>
    deployments.cancel(deploymentIdParam(request.params)),
  );
}

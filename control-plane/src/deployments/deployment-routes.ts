import { DeploymentParamsSchema, DeploymentViewSchema, QuickDeployBodySchema } from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ERROR_RESPONSES } from '../plugins/openapi.js';

const tags = ['deployments'];

export const deploymentRoutes: FastifyPluginAsyncZod = async (app) => {
  const { deployments } = app;

  app.post(
    '/deployments',
    {
      schema: {
        summary: 'The one-form deploy: creates the project when it is new, then deploys it',
        tags,
        body: QuickDeployBodySchema,
        response: { 202: DeploymentViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      reply.status(202).send(await deployments.quickDeploy(request.body, request.targetTeamId ?? undefined)),
  );

  app.get(
    '/deployments/:id',
    {
      schema: {
        summary: 'One deployment',
        tags,
        params: DeploymentParamsSchema,
        response: { 200: DeploymentViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => deployments.get(request.params.id),
  );

  app.post(
    '/deployments/:id/cancel',
    {
      schema: {
        summary: 'Cancel a queued or building deployment (409 when it already finished)',
        tags,
        params: DeploymentParamsSchema,
        response: { 200: DeploymentViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => deployments.cancel(request.params.id),
  );
};

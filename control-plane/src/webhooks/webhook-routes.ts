import {
  CreateWebhookBodySchema,
  DeliveryListQuerySchema,
  GitTokenParamsSchema,
  ProjectParamsSchema,
  SetGitTokenBodySchema,
  WatchPathsSchema,
  WebhookDeliveryViewSchema,
  WebhookParamsSchema,
  WebhookSecretViewSchema,
  WebhookViewSchema,
} from '@deploysphere/contracts';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERROR_RESPONSES } from '../plugins/openapi.js';
import type { WebhookService } from './webhook-service.js';

const tags = ['git'];

/**
 * The address the caller reached this API at, which is where the provider must send deliveries
 * too (the dashboard and the hooks are served by the same control plane).
 */
const originOf = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

/** `/api/v1` routes that connect a project's repository; the admin token guards them. */
export const webhookRoutes: FastifyPluginAsyncZod<{ webhooks: WebhookService }> = async (app, opts) => {
  const { webhooks } = opts;

  app.post(
    '/projects/:slug/webhook',
    {
      schema: {
        summary:
          "Connect a provider's webhook, or rotate its secret: answers the URL and the secret, shown this once",
        tags,
        params: ProjectParamsSchema,
        body: CreateWebhookBodySchema,
        response: { 201: WebhookSecretViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .header('cache-control', 'no-store')
        .send(await webhooks.connect(request.params.slug, request.body.provider, originOf(request))),
  );

  app.get(
    '/projects/:slug/webhooks',
    {
      schema: {
        summary: "The project's connected webhooks, without their secrets",
        tags,
        params: ProjectParamsSchema,
        response: { 200: z.array(WebhookViewSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => webhooks.list(request.params.slug, originOf(request)),
  );

  app.delete(
    '/projects/:slug/webhooks/:provider',
    {
      schema: {
        summary: "Disconnect a provider's webhook: its URL stops accepting deliveries",
        tags,
        params: WebhookParamsSchema,
        response: { 204: z.undefined(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await webhooks.disconnect(request.params.slug, request.params.provider);
      return reply.status(204).send();
    },
  );

  app.get(
    '/projects/:slug/deliveries',
    {
      schema: {
        summary: "The project's recent webhook deliveries with their outcomes, newest first",
        tags,
        params: ProjectParamsSchema,
        querystring: DeliveryListQuerySchema,
        response: { 200: z.array(WebhookDeliveryViewSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => webhooks.deliveries(request.params.slug, request.query.limit),
  );

  app.put(
    '/projects/:slug/webhooks/:provider/token',
    {
      schema: {
        summary:
          'Set the provider API token that commit statuses and pull request comments are posted with (stored encrypted, never shown again)',
        tags,
        params: GitTokenParamsSchema,
        body: SetGitTokenBodySchema,
        response: { 204: z.undefined(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await webhooks.setApiToken(request.params.slug, request.params.provider, request.body);
      return reply.status(204).send();
    },
  );

  app.delete(
    '/projects/:slug/webhooks/:provider/token',
    {
      schema: {
        summary: 'Remove the provider API token: deployments are no longer reported to the provider',
        tags,
        params: GitTokenParamsSchema,
        response: { 204: z.undefined(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await webhooks.clearApiToken(request.params.slug, request.params.provider);
      return reply.status(204).send();
    },
  );

  app.get(
    '/projects/:slug/watch-paths',
    {
      schema: {
        summary: "The project's watch paths: a push changing no file matching them is skipped",
        tags,
        params: ProjectParamsSchema,
        response: { 200: WatchPathsSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => webhooks.watchPaths(request.params.slug),
  );

  app.put(
    '/projects/:slug/watch-paths',
    {
      schema: {
        summary: "Set the project's watch paths (globs); an empty list builds every push",
        tags,
        params: ProjectParamsSchema,
        body: WatchPathsSchema,
        response: { 200: WatchPathsSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => webhooks.setWatchPaths(request.params.slug, request.body),
  );
};

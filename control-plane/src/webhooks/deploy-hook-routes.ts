import {
  AppError,
  CreateDeployHookBodySchema,
  DeployHookParamsSchema,
  DeployHookResponseSchema,
  DeployHookSecretViewSchema,
  DeployHookViewSchema,
  ProjectParamsSchema,
} from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERROR_RESPONSES, SECURITY } from '../plugins/openapi.js';
import { DEPLOY_HOOK_PATH_PREFIX, type DeployHookService } from './deploy-hook-service.js';
import { RateLimiter } from './rate-limiter.js';
import type { WebhookMetrics } from './webhook-metrics.js';

const tags = ['git'];

/**
 * Per caller address and URL: a burst of 5, then one a minute. A hook is pressed by a person, a
 * CMS or a schedule; more than that is a loop or abuse, and each press is a build.
 */
export const DEPLOY_HOOK_RATE = { burst: 5, perMinute: 1 };
/** Per caller address over all URLs, so guessing at URLs (each its own bucket) costs too. */
export const DEPLOY_HOOK_ADDRESS_RATE = { burst: 30, perMinute: 30 };

/** `/api/v1` routes that make, list and revoke a project's deploy hooks (admin token). */
export const deployHookRoutes: FastifyPluginAsyncZod<{ hooks: DeployHookService }> = async (
  app,
  { hooks },
) => {
  app.post(
    '/projects/:slug/deploy-hooks',
    {
      schema: {
        summary: 'Create a deploy hook: a secret URL that deploys a branch when POSTed to, shown this once',
        tags,
        params: ProjectParamsSchema,
        body: CreateDeployHookBodySchema,
        response: { 201: DeployHookSecretViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .header('cache-control', 'no-store')
        .send(await hooks.create(request.params.slug, request.body, `${request.protocol}://${request.host}`)),
  );

  app.get(
    '/projects/:slug/deploy-hooks',
    {
      schema: {
        summary: "The project's deploy hooks, without their URLs",
        tags,
        params: ProjectParamsSchema,
        response: { 200: z.array(DeployHookViewSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => hooks.list(request.params.slug),
  );

  app.delete(
    '/projects/:slug/deploy-hooks/:hookId',
    {
      schema: {
        summary: 'Revoke a deploy hook: its URL stops working at once',
        tags,
        params: DeployHookParamsSchema,
        response: { 204: z.undefined(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await hooks.revoke(request.params.slug, request.params.hookId);
      return reply.status(204).send();
    },
  );
};

/** `POST /hooks/deploy/:secret`: outside `/api/v1`; the URL's secret is the credential. */
export const deployHookTriggerRoutes: FastifyPluginAsyncZod<{
  hooks: DeployHookService;
  metrics: WebhookMetrics;
}> = async (app, opts) => {
  const limiter = new RateLimiter(DEPLOY_HOOK_RATE);
  const perAddress = new RateLimiter(DEPLOY_HOOK_ADDRESS_RATE);
  // Whatever a caller sends (often nothing, or a CMS's JSON) is ignored, never parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, _body, done) =>
    done(null, undefined),
  );
  app.post(
    `${DEPLOY_HOOK_PATH_PREFIX}/:secret`,
    {
      // The URL is a credential: Fastify's request lines (which carry it) are not logged.
      logLevel: 'warn',
      schema: {
        summary: "Trigger a deploy hook: deploys its branch (the URL is the hook's secret)",
        tags,
        security: SECURITY.public,
        params: z.object({ secret: z.string().max(128) }),
        response: { 202: DeployHookResponseSchema, ...ERROR_RESPONSES },
      },
      // Before the lookup, and keyed by address and URL: guessing URLs costs the same budget.
      onRequest: async (request, reply) => {
        const { secret } = request.params as { secret?: string };
        const wait = Math.max(perAddress.take(request.ip), limiter.take(`${request.ip}|${secret ?? ''}`));
        if (wait > 0) {
          opts.metrics.rejected('deploy-hook', 'rate_limited');
          void reply.header('retry-after', String(wait));
          throw new AppError(429, 'rate_limited', `Too many deploys from this hook; retry in ${wait} s`);
        }
      },
    },
    async (request, reply) => {
      try {
        return reply.status(202).send(await opts.hooks.trigger(request.params.secret));
      } catch (err) {
        if (err instanceof AppError && err.status === 404)
          opts.metrics.rejected('deploy-hook', 'unknown_hook');
        throw err;
      }
    },
  );
};

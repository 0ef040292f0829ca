import { AppError, HookResponseSchema } from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERROR_RESPONSES, SECURITY } from '../plugins/openapi.js';
import { RateLimiter } from './rate-limiter.js';
import type { WebhookMetrics } from './webhook-metrics.js';
import { HOOK_PATH_PREFIX, type WebhookService } from './webhook-service.js';

/** A push payload is tens of kilobytes; GitHub's own cap is 25 MB, which nobody should buffer. */
export const HOOK_BODY_LIMIT_BYTES = 1024 * 1024;

/** Per caller address and hook: a burst of 30, then one a second. Pushes come far slower. */
export const HOOK_RATE = { burst: 30, perMinute: 60 };

const HookParamsSchema = z.object({ hookId: z.string().max(64) });

/**
 * `POST /hooks/git/:hookId`: where providers deliver. Outside `/api/v1`, so no bearer token:
 * the hook's secret authenticates each delivery instead (WebhookService.receive). The body is
 * kept as raw bytes, since signatures are computed over exactly the bytes sent.
 */
export const hookRoutes: FastifyPluginAsyncZod<{
  webhooks: WebhookService;
  metrics: WebhookMetrics;
}> = async (app, opts) => {
  const limiter = new RateLimiter(HOOK_RATE);

  // Any content type, as bytes: JSON (every provider) or GitHub's form encoding. This plugin is
  // encapsulated, so the API's JSON parser elsewhere is untouched.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: HOOK_BODY_LIMIT_BYTES }, (_req, body, done) =>
    done(null, body),
  );

  app.post(
    `${HOOK_PATH_PREFIX}/:hookId`,
    {
      schema: {
        summary:
          'A Git provider delivers an event (GitHub, GitLab, Gitea/Forgejo or the generic form); ' +
          "authenticated by the hook's secret, see docs/git-deploys.md",
        tags: ['git'],
        security: SECURITY.public,
        params: HookParamsSchema,
        body: z.unknown().describe("The provider's event payload, verified over its raw bytes"),
        response: { 200: HookResponseSchema, 202: HookResponseSchema, ...ERROR_RESPONSES },
      },
      onRequest: async (request, reply) => {
        const { hookId } = request.params as { hookId?: string };
        const wait = limiter.take(`${request.ip}|${hookId ?? ''}`);
        if (wait > 0) {
          opts.metrics.rejected('unknown', 'rate_limited');
          void reply.header('retry-after', String(wait));
          throw new AppError(429, 'rate_limited', `Too many deliveries; retry in ${wait} s`);
        }
      },
    },
    async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : undefined;
      const result = await opts.webhooks.receive({
        hookId: request.params.hookId,
        headers: request.headers,
        body,
        contentType: request.headers['content-type'],
      });
      return reply.status(result.status).send(result.body);
    },
  );
};

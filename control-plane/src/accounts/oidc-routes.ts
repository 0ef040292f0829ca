import { AppError, AuthProvidersViewSchema, OidcStartQuerySchema } from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERROR_RESPONSES, SECURITY } from '../plugins/openapi.js';
import { sessionCookie, setSessionCookie } from '../session/session.js';
import { USER_SESSION_MAX_AGE_SECONDS } from './account-service.js';
import { OIDC_FLOW_MAX_AGE_SECONDS, type OidcSignIn } from './oidc-sign-in.js';

const FLOW_COOKIE = 'ds_oidc';
const tags = ['accounts'];
const ProviderParamsSchema = z.object({
  provider: z.string().regex(/^[a-z0-9-]{1,32}$/, 'expected a provider id'),
});

/**
 * Public sign-in routes for OpenID Connect (they are how a browser gets a session):
 * - `GET /auth/providers`: the configured providers, for the sign-in page's buttons;
 * - `GET /auth/oidc/:provider/start?return=/path`: redirects to the provider;
 * - `GET /auth/oidc/:provider/callback`: the provider's redirect back; sets the session.
 */
export const oidcRoutes: FastifyPluginAsyncZod<{ oidc: OidcSignIn }> = async (app, opts) => {
  const { oidc } = opts;
  const flowCookieOptions = (secure: boolean) => ({
    httpOnly: true,
    // Lax, not Strict: the provider's redirect back is a cross-site navigation, and it must carry it.
    sameSite: 'lax' as const,
    path: '/api/v1/auth/oidc/',
    secure,
  });

  app.get(
    '/auth/providers',
    {
      schema: {
        summary: 'The OpenID Connect providers users can sign in with',
        tags,
        security: SECURITY.public,
        response: { 200: AuthProvidersViewSchema, ...ERROR_RESPONSES },
      },
    },
    async () => oidc.providers().map((p) => ({ ...p, startUrl: `/api/v1/auth/oidc/${p.id}/start` })),
  );

  app.get(
    '/auth/oidc/:provider/start',
    {
      schema: {
        summary: 'Start signing in with an OpenID Connect provider (redirects there)',
        tags,
        security: SECURITY.public,
        params: ProviderParamsSchema,
        querystring: OidcStartQuerySchema,
        response: { 302: z.undefined(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { redirect, flowCookie } = await oidc.start(request.params.provider, request.query.return);
      reply.setCookie(FLOW_COOKIE, flowCookie, {
        ...flowCookieOptions(request.protocol === 'https'),
        maxAge: OIDC_FLOW_MAX_AGE_SECONDS,
      });
      return reply.redirect(redirect, 302);
    },
  );

  app.get(
    '/auth/oidc/:provider/callback',
    {
      schema: {
        summary: "The provider's redirect back: checks state, nonce and PKCE, then signs in",
        tags,
        security: SECURITY.public,
        params: ProviderParamsSchema,
        response: { 302: z.undefined(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      if (typeof query.error === 'string') {
        throw new AppError(400, 'invalid_sign_in', `The provider refused the sign-in: ${query.error}`, {
          field: 'error',
        });
      }
      const url = new URL(request.url, `${request.protocol}://${request.host}`);
      const cookies = request.cookies ?? {};
      reply.clearCookie(FLOW_COOKIE, flowCookieOptions(request.protocol === 'https'));
      const signedIn = await oidc.finish(request.params.provider, url, cookies[FLOW_COOKIE], {
        ip: request.ip,
        userAgent: request.headers['user-agent'],
        previousCookie: sessionCookie(request),
      });
      setSessionCookie(request, reply, signedIn.cookieValue, USER_SESSION_MAX_AGE_SECONDS);
      return reply.redirect(signedIn.returnTo, 302);
    },
  );
};

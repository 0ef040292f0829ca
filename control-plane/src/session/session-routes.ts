import { AppError, SessionBodySchema, SessionViewSchema } from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { tokenMatches } from '../plugins/auth.js';
import { ERROR_RESPONSES, SECURITY } from '../plugins/openapi.js';
import { endSession, sessionExpiry, startSession } from './session.js';

const tags = ['session'];

/**
 * The dashboard's sign-in, under `/api/v1` but outside the bearer-token hook (it is how a browser
 * gets in). Needs the `session` plugin registered on an ancestor instance.
 * - `POST /session` `{token}`: the admin token for a session cookie;
 * - `GET /session`: whether this request is signed in; always 200, so a signed-out page load
 *   leaves no failed request in the browser's console;
 * - `DELETE /session`: drops the cookie.
 */
export const sessionRoutes: FastifyPluginAsyncZod<{ adminToken: string }> = async (app, opts) => {
  app.get(
    '/session',
    {
      schema: {
        summary: 'Whether this request carries a valid session, and until when',
        tags,
        security: SECURITY.public,
        response: { 200: SessionViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const expires = sessionExpiry(request);
      return { signedIn: expires !== undefined, expiresAt: expires?.toISOString() ?? null };
    },
  );

  app.post(
    '/session',
    {
      schema: {
        summary: "Trade the API token for the dashboard's httpOnly session cookie",
        tags,
        security: SECURITY.public,
        body: SessionBodySchema,
        response: { 200: SessionViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      if (!tokenMatches(request.body.token, opts.adminToken)) {
        throw new AppError(401, 'unauthorized', 'That API token is not valid', { field: 'token' });
      }
      const expiresAt = startSession(request, reply);
      return { signedIn: true, expiresAt: expiresAt.toISOString() };
    },
  );

  app.delete(
    '/session',
    {
      schema: {
        summary: 'Sign out: drop the session cookie',
        tags,
        security: SECURITY.public,
        response: { 204: z.undefined(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      endSession(request, reply);
      return reply.status(204).send();
    },
  );
};

import {
  AppError,
  PasswordSignInBodySchema,
  SessionBodySchema,
  SessionViewSchema,
} from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { tokenMatches } from '../plugins/auth.js';
import { ERROR_RESPONSES, SECURITY } from '../plugins/openapi.js';
import { USER_SESSION_MAX_AGE_SECONDS, type AccountService } from '../accounts/account-service.js';
import { endSession, sessionCookie, sessionExpiry, setSessionCookie, startSession } from './session.js';

const tags = ['session'];

/** The part of AccountService these routes use. */
export type UserSessions = Pick<AccountService, 'signIn' | 'signOut' | 'sessionExpiry'>;

/**
 * The dashboard's sign-in, under `/api/v1` but outside the bearer-token hook (it is how a browser
 * gets in). Needs the `session` plugin registered on an ancestor instance.
 * - `POST /session` `{token}`: the admin token for a session cookie;
 * - `POST /session/password` `{email, password}`: a user's session (rotated: a session the browser
 *   already held is revoked);
 * - `GET /session`: whether this request is signed in; always 200, so a signed-out page load
 *   leaves no failed request in the browser's console;
 * - `DELETE /session`: drops the cookie and revokes a user's session.
 */
export const sessionRoutes: FastifyPluginAsyncZod<{
  adminToken: string;
  /** User sessions (password sign-in); the admin token's sessions need nothing stored. */
  accounts: UserSessions;
}> = async (app, opts) => {
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
      const expires = sessionExpiry(request) ?? (await opts.accounts.sessionExpiry(sessionCookie(request)));
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

  app.post(
    '/session/password',
    {
      schema: {
        summary: "Sign in with email and password for the dashboard's httpOnly session cookie",
        tags,
        security: SECURITY.public,
        body: PasswordSignInBodySchema,
        response: { 200: SessionViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { cookieValue, expiresAt } = await opts.accounts.signIn(
        request.body.email,
        request.body.password,
        {
          ip: request.ip,
          userAgent: request.headers['user-agent'],
          previousCookie: sessionCookie(request),
        },
      );
      setSessionCookie(request, reply, cookieValue, USER_SESSION_MAX_AGE_SECONDS);
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
      await opts.accounts.signOut(sessionCookie(request));
      endSession(request, reply);
      return reply.status(204).send();
    },
  );
};

import {
  PasswordResetConfirmBodySchema,
  PasswordResetRequestBodySchema,
  SessionViewSchema,
} from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERROR_RESPONSES, SECURITY } from '../plugins/openapi.js';
import { sessionCookie, setSessionCookie } from '../session/session.js';
import { USER_SESSION_MAX_AGE_SECONDS, type AccountService } from './account-service.js';

/**
 * Public password reset: `POST /password-reset` sends a one-time link (always 202, so it never
 * tells which emails have accounts); `POST /password-reset/confirm` spends it and signs in.
 */
export const passwordResetRoutes: FastifyPluginAsyncZod<{ accounts: AccountService }> = async (app, opts) => {
  app.post(
    '/password-reset',
    {
      schema: {
        summary: 'Send a password reset link to the account with this email, if there is one',
        tags: ['accounts'],
        security: SECURITY.public,
        body: PasswordResetRequestBodySchema,
        response: { 202: z.object({ accepted: z.literal(true) }), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await opts.accounts.requestPasswordReset(request.body.email, request.ip);
      return reply.status(202).send({ accepted: true });
    },
  );

  app.post(
    '/password-reset/confirm',
    {
      schema: {
        summary: "Set a new password with a reset link's token; every other session of the account ends",
        tags: ['accounts'],
        security: SECURITY.public,
        body: PasswordResetConfirmBodySchema,
        response: { 200: SessionViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const signedIn = await opts.accounts.confirmPasswordReset(request.body.token, request.body.password, {
        ip: request.ip,
        userAgent: request.headers['user-agent'],
        previousCookie: sessionCookie(request),
      });
      setSessionCookie(request, reply, signedIn.cookieValue, USER_SESSION_MAX_AGE_SECONDS);
      return { signedIn: true, expiresAt: signedIn.expiresAt.toISOString() };
    },
  );
};

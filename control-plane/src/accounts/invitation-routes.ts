import { AcceptInvitationBodySchema, SessionViewSchema } from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ERROR_RESPONSES, SECURITY } from '../plugins/openapi.js';
import { sessionCookie, setSessionCookie } from '../session/session.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { USER_SESSION_MAX_AGE_SECONDS, type AccountService } from './account-service.js';

/**
 * `POST /api/v1/invitations/accept`: public (the invitation's secret is the credential). It
 * creates the invited user, or adds an existing one who proves their password, and signs in.
 */
export const invitationRoutes: FastifyPluginAsyncZod<{
  accounts: AccountService;
  audit: AuditRecorder;
}> = async (app, opts) => {
  app.post(
    '/invitations/accept',
    {
      schema: {
        summary: 'Accept a team invitation: create the account (or join with an existing one) and sign in',
        tags: ['accounts'],
        security: SECURITY.public,
        body: AcceptInvitationBodySchema,
        response: { 200: SessionViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const joined = await opts.accounts.acceptInvitation(request.body, {
        ip: request.ip,
        userAgent: request.headers['user-agent'],
        previousCookie: sessionCookie(request),
      });
      opts.audit.record({
        teamIds: [joined.teamId],
        action: 'member.join',
        actor: { kind: 'user', userId: joined.userId, label: joined.email, tokenId: null },
        target: joined.userId,
        ip: request.ip,
        details: { role: joined.role },
      });
      setSessionCookie(request, reply, joined.cookieValue, USER_SESSION_MAX_AGE_SECONDS);
      return { signedIn: true, expiresAt: joined.expiresAt.toISOString() };
    },
  );
};

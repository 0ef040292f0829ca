import {
  AppError,
  CreatedInvitationSchema,
  CreatedTokenSchema,
  CreateInvitationBodySchema,
  CreateTeamBodySchema,
  CreateTokenBodySchema,
  MemberParamsSchema,
  MemberViewSchema,
  MeViewSchema,
  TeamParamsSchema,
  TeamViewSchema,
  TokenParamsSchema,
  TokenViewSchema,
  UpdateMemberBodySchema,
  UpdateTeamBodySchema,
  SessionParamsSchema,
  UserSessionViewSchema,
} from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { access } from '../authz/principal.js';
import { ERROR_RESPONSES } from '../plugins/openapi.js';
import { sessionCookie } from '../session/session.js';
import type { AccountService } from './account-service.js';

const tags = ['accounts'];

/**
 * Signed-in account routes under `/api/v1` (behind `authenticate` and `authorize`): who am I,
 * teams, members, invitations and the caller's API tokens. ROUTE_RULES says who may call each.
 */
export const accountRoutes: FastifyPluginAsyncZod<{ accounts: AccountService; db: Db }> = async (
  app,
  opts,
) => {
  const { accounts, db } = opts;
  /** The `:team` param's id; authorize() already answered 404 for a team the caller cannot see. */
  const teamIdOf = async (slug: string) => {
    const id = await accounts.teamId(slug);
    if (!id) throw AppError.notFound(`Team ${slug}`, 'team');
    return id;
  };

  app.get(
    '/me',
    {
      schema: {
        summary: 'Who this request acts as',
        tags,
        response: { 200: MeViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => accounts.me(request.principal),
  );

  app.get(
    '/teams',
    {
      schema: {
        summary: 'The teams the caller belongs to',
        tags,
        response: { 200: z.array(TeamViewSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => accounts.teamsOf(request.principal),
  );

  app.post(
    '/teams',
    {
      schema: {
        summary: 'Create a team; the caller becomes its owner',
        tags,
        body: CreateTeamBodySchema,
        response: { 201: TeamViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await accounts.createTeam(request.principal, request.body)),
  );

  app.patch(
    '/teams/:team',
    {
      schema: {
        summary: "Change a team's name or its limits (owners)",
        tags,
        params: TeamParamsSchema,
        body: UpdateTeamBodySchema,
        response: { 200: TeamViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) =>
      accounts.updateTeam(request.principal, await teamIdOf(request.params.team), request.body),
  );

  app.get(
    '/teams/:team/members',
    {
      schema: {
        summary: "A team's members and their roles",
        tags,
        params: TeamParamsSchema,
        response: { 200: z.array(MemberViewSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => accounts.members(await teamIdOf(request.params.team)),
  );

  app.patch(
    '/teams/:team/members/:userId',
    {
      schema: {
        summary: "Change a member's role (a team keeps at least one owner)",
        tags,
        params: MemberParamsSchema,
        body: UpdateMemberBodySchema,
        response: { 200: MemberViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) =>
      accounts.setRole(await teamIdOf(request.params.team), request.params.userId, request.body.role),
  );

  app.delete(
    '/teams/:team/members/:userId',
    {
      schema: {
        summary: 'Remove a member (a team keeps at least one owner); their tokens for this team are revoked',
        tags,
        params: MemberParamsSchema,
        response: { 204: z.undefined(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await accounts.removeMember(await teamIdOf(request.params.team), request.params.userId);
      return reply.status(204).send();
    },
  );

  app.post(
    '/teams/:team/invitations',
    {
      schema: {
        summary: 'Invite someone by email; the link is shown once, in this response',
        tags,
        params: TeamParamsSchema,
        body: CreateInvitationBodySchema,
        response: { 201: CreatedInvitationSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await accounts.invite(await teamIdOf(request.params.team), request.body)),
  );

  app.get(
    '/sessions',
    {
      schema: {
        summary: "The caller's signed-in browsers",
        tags,
        response: { 200: z.array(UserSessionViewSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => accounts.sessions(request.principal.userId!, sessionCookie(request)),
  );

  app.delete(
    '/sessions/:sessionId',
    {
      schema: {
        summary: 'End one of the caller’s sessions (another browser, a lost device)',
        tags,
        params: SessionParamsSchema,
        response: { 204: z.undefined(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await accounts.revokeSession(request.principal.userId!, request.params.sessionId);
      return reply.status(204).send();
    },
  );

  app.get(
    '/tokens',
    {
      schema: {
        summary: "The caller's live API tokens (never their secrets)",
        tags,
        response: { 200: z.array(TokenViewSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => accounts.tokens(request.principal.userId!),
  );

  app.post(
    '/tokens',
    {
      schema: {
        summary: 'Create an API token; its secret is shown once, in this response',
        tags,
        body: CreateTokenBodySchema,
        response: { 201: CreatedTokenSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const p = request.principal;
      const { team, project } = request.body;
      // A restriction must name something the caller can see; otherwise it is as unknown as absent.
      const teamId = team ? await accounts.teamId(team) : undefined;
      if (team && (!teamId || access(p, 'read', teamId) !== 'allowed'))
        throw AppError.notFound(`Team ${team}`, 'team');
      const row = project ? await db.project.findUnique({ where: { slug: project } }) : null;
      if (project && (!row || access(p, 'read', row.teamId, row.id) !== 'allowed'))
        throw AppError.notFound(`Project ${project}`, 'project');
      if (teamId && row && row.teamId !== teamId)
        throw AppError.validation('project: must belong to the team the token is restricted to', 'project');
      const created = await accounts.createToken(p, request.body, { teamId, projectId: row?.id });
      return reply.status(201).send(created);
    },
  );

  app.delete(
    '/tokens/:tokenId',
    {
      schema: {
        summary: 'Revoke one of the caller’s API tokens',
        tags,
        params: TokenParamsSchema,
        response: { 204: z.undefined(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await accounts.revokeToken(request.principal.userId!, request.params.tokenId);
      return reply.status(204).send();
    },
  );
};

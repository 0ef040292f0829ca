import { AppError, AuditPageSchema, AuditQuerySchema, TeamParamsSchema } from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AccountService } from '../accounts/account-service.js';
import { ERROR_RESPONSES } from '../plugins/openapi.js';
import type { AuditStore } from './audit-store.js';

/** `GET /api/v1/teams/:team/audit`: the team's audit log, newest first, paged and filtered. */
export const auditRoutes: FastifyPluginAsyncZod<{ store: AuditStore; accounts: AccountService }> = async (
  app,
  opts,
) => {
  app.get(
    '/teams/:team/audit',
    {
      schema: {
        summary: "The team's audit log: who did what, when and from where, newest first",
        tags: ['accounts'],
        params: TeamParamsSchema,
        querystring: AuditQuerySchema,
        response: { 200: AuditPageSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const teamId = await opts.accounts.teamId(request.params.team);
      if (!teamId) throw AppError.notFound(`Team ${request.params.team}`, 'team');
      return opts.store.page(teamId, request.query);
    },
  );
};

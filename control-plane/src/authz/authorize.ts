import { AppError } from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import type { FastifyInstance } from 'fastify';
import type { AccountService } from '../accounts/account-service.js';
import { access, type Access, type Capability } from './principal.js';
import { ruleFor } from './route-rules.js';

/**
 * Applies ROUTE_RULES before each request's validation, so a refusal never depends on whether
 * the body was well formed, and a caller outside a resource's team learns nothing about it: the
 * 404 is the same as for a resource that does not exist.
 *
 * A route without a rule is refused to everyone but the admin token (and logged as a bug); the
 * authorisation test fails for it, so it cannot ship that way.
 */
export function authorize(app: FastifyInstance, opts: { db: Db; accounts: AccountService }): void {
  const { db, accounts } = opts;
  app.addHook('preValidation', async (request) => {
    const url = request.routeOptions.url ?? '';
    const rule = ruleFor(request.method === 'HEAD' ? 'GET' : request.method, url);
    const p = request.principal;
    if (!rule) {
      request.log.error({ method: request.method, url }, 'route has no authorisation rule');
      if (p.kind === 'root') return;
      throw AppError.forbidden('This route is not open to API tokens or users yet');
    }
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    switch (rule.on) {
      case 'signed-in':
        return;
      case 'platform':
        if (p.kind !== 'root')
          throw AppError.forbidden('Only the platform operator (the admin token) can do this');
        return;
      case 'user':
        if (p.kind !== 'user')
          throw AppError.forbidden('Only a signed-in user can do this, not an API token');
        return;
      case 'team': {
        const teamId = await accounts.teamId(params.team ?? '');
        const verdict = teamId ? access(p, rule.need, teamId) : 'hidden';
        request.resourceTeamId = teamId ?? null;
        return check(verdict, rule.need, () => AppError.notFound(`Team ${params.team}`, 'team'));
      }
      case 'project': {
        const project = await db.project.findUnique({
          where: { slug: params.slug ?? '' },
          select: { id: true, teamId: true },
        });
        const verdict = project ? access(p, rule.need, project.teamId, project.id) : 'hidden';
        request.resourceTeamId = project?.teamId ?? null;
        return check(verdict, rule.need, () => AppError.notFound(`Project ${params.slug}`, 'slug'));
      }
      case 'deployment': {
        const d = await db.deployment.findUnique({
          where: { id: params.id ?? '' },
          select: { projectId: true, project: { select: { teamId: true } } },
        });
        const verdict = d ? access(p, rule.need, d.project.teamId, d.projectId) : 'hidden';
        request.resourceTeamId = d?.project.teamId ?? null;
        return check(verdict, rule.need, () => AppError.notFound(`Deployment ${params.id}`, 'id'));
      }
      case 'new-project': {
        const body = (request.body ?? {}) as { slug?: unknown; team?: unknown };
        const existing =
          typeof body.slug === 'string'
            ? await db.project.findUnique({ where: { slug: body.slug }, select: { id: true, teamId: true } })
            : null;
        if (existing) {
          const verdict = access(p, rule.need, existing.teamId, existing.id);
          request.resourceTeamId = existing.teamId;
          // A slug is a hostname, unique across teams: that it is taken is public, whose it is is not.
          if (verdict === 'hidden') throw AppError.conflict(`slug: "${body.slug}" is already taken`, 'slug');
          return check(verdict, rule.need);
        }
        const team =
          typeof body.team === 'string' ? await accounts.teamId(body.team) : accounts.defaultTeamFor(p);
        if (p.projectId !== null) throw AppError.forbidden('This token is restricted to one project');
        const verdict = team ? access(p, rule.need, team) : 'hidden';
        check(verdict, rule.need, () =>
          typeof body.team === 'string'
            ? AppError.notFound(`Team ${body.team}`, 'team')
            : AppError.forbidden('You are in no team where you can create projects; ask for an invitation'),
        );
        request.targetTeamId = team ?? null;
        request.resourceTeamId = team ?? null;
        return;
      }
    }
  });
}

function check(verdict: Access, need: Capability, hidden?: () => AppError): void {
  if (verdict === 'allowed') return;
  if (verdict === 'hidden' && hidden) throw hidden();
  throw AppError.forbidden(`This needs the ${need} permission, which your role or token does not grant`);
}

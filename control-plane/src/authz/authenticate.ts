import { AppError } from '@deploysphere/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccountService } from '../accounts/account-service.js';
import { bearerToken, tokenMatches } from '../plugins/auth.js';
import { sessionCookie, sessionToken } from '../session/session.js';
import { rootPrincipal, type Principal } from './principal.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request acts as; set by `authenticate` on every route it guards. */
    principal: Principal;
    /** The team a `new-project` route creates its project in, as `authorize` decided. */
    targetTeamId: string | null;
    /** The team that owns the resource the request acts on, as `authorize` resolved it (for the audit log). */
    resourceTeamId: string | null;
  }
}

/**
 * Who the request is, from (in this order) a bearer token — the bootstrap admin token or a user's
 * API token — or the session cookie — the admin token's session or a user's. Anything else is 401.
 */
export async function resolvePrincipal(
  request: FastifyRequest,
  adminToken: string,
  accounts: AccountService,
): Promise<Principal | undefined> {
  const bearer = bearerToken(request);
  if (bearer !== undefined) {
    if (tokenMatches(bearer, adminToken)) return rootPrincipal();
    return accounts.principalForToken(bearer);
  }
  const adminSession = sessionToken(request);
  if (adminSession !== undefined && tokenMatches(adminSession, adminToken)) return rootPrincipal();
  return accounts.principalForSession(sessionCookie(request));
}

/** Every route in this encapsulated context requires a principal. */
export function authenticate(
  app: FastifyInstance,
  opts: { adminToken: string; accounts: AccountService },
): void {
  if (!app.hasRequestDecorator('principal')) {
    app.decorateRequest('principal', null as unknown as Principal);
    app.decorateRequest('targetTeamId', null);
    app.decorateRequest('resourceTeamId', null);
  }
  app.addHook('onRequest', async (request) => {
    const principal = await resolvePrincipal(request, opts.adminToken, opts.accounts);
    if (!principal) throw AppError.unauthorized();
    request.principal = principal;
  });
}

import { AppError } from '@deploysphere/contracts';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccountService } from '../accounts/account-service.js';
import { resolvePrincipal } from '../authz/authenticate.js';
import { messagePage, pageHeaders, signInPage } from './protection-page.js';
import type { ProtectedSite, ProtectionService } from './protection-service.js';

export interface ProtectionRoutesOptions {
  protection: ProtectionService;
  accounts: AccountService;
  adminToken: string;
  dashboardUrl: string;
}

const AuthorizeQuerySchema = z.object({
  host: z.string({ error: 'required' }).min(1).max(253),
  return: z.string().max(2048).default('/'),
});

const AuthorizeFormSchema = z.object({
  host: z.string({ error: 'required' }).min(1).max(253),
  return: z.string().max(2048).default('/'),
  password: z.string().max(256).optional(),
  intent: z.enum(['session', 'password']).optional(),
});

const tags = ['protection'];
const html = z.string();

/**
 * Sign-in for protected hosts (docs/protected-previews.md). Outside /api/v1: these are browser
 * pages, reached by the edge's redirect, and they authenticate with the dashboard's session
 * cookie or the project's password rather than a bearer token.
 */
export const protectionRoutes: FastifyPluginAsyncZod<ProtectionRoutesOptions> = async (app, opts) => {
  const { protection, accounts, adminToken, dashboardUrl } = opts;

  // Forms post urlencoded; the parser lives in this plugin's context only.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 16 * 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  const page = (reply: FastifyReply, status: number, body: string, site?: ProtectedSite) =>
    reply
      .status(status)
      .headers(pageHeaders(site ? protection.siteOrigin(site) : undefined))
      .send(body);

  const granted = async (reply: FastifyReply, site: ProtectedSite) =>
    reply
      .status(303)
      .headers({
        location: await protection.grantUrl(site),
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      })
      .send();

  /** Bad input and unknown hosts as pages, since a person reads them, with the same statuses. */
  const asPage = async (reply: FastifyReply, run: () => Promise<FastifyReply>) => {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      return page(reply, err.status, messagePage('Cannot sign in here', err.message));
    }
  };

  app.get(
    '/protection/authorize',
    {
      schema: {
        summary:
          "A protected host's sign-in: straight back with a grant for a team member, else a sign-in page",
        tags,
        querystring: AuthorizeQuerySchema,
        response: { 200: html, 303: z.undefined(), 400: html, 403: html, 404: html },
      },
    },
    (request, reply) =>
      asPage(reply, async () => {
        const site = await protection.site(request.query.host, request.query.return);
        const principal = await resolvePrincipal(request, adminToken, accounts);
        if (protection.mayOpen(site, principal)) return granted(reply, site);
        return page(reply, 200, signInPage({ ...site, dashboardUrl }), site);
      }),
  );

  app.post(
    '/protection/authorize',
    {
      schema: {
        summary: "A protected host's sign-in form: the project's password, or the dashboard session",
        tags,
        body: AuthorizeFormSchema,
        response: { 303: z.undefined(), 400: html, 401: html, 403: html, 404: html, 429: html },
      },
    },
    (request, reply) =>
      asPage(reply, async () => {
        const body = request.body;
        const site = await protection.site(body.host, body.return);
        if (body.password !== undefined && body.intent !== 'session') {
          if (await protection.checkPassword(site, body.password, request.ip)) return granted(reply, site);
          return page(
            reply,
            401,
            signInPage({ ...site, dashboardUrl, error: 'That password is not right.' }),
            site,
          );
        }
        const principal = await resolvePrincipal(request, adminToken, accounts);
        if (protection.mayOpen(site, principal)) return granted(reply, site);
        const error = principal
          ? 'Your account is not a member of the team that owns this site.'
          : 'You are not signed in to the dashboard.';
        return page(reply, principal ? 403 : 401, signInPage({ ...site, dashboardUrl, error }), site);
      }),
  );
};

// Every /api/v1 route × every kind of caller, against the real app on PostgreSQL: the outcome must
// be what ROUTE_RULES and the caller's role and token scopes say. The table is generated from the
// routes Fastify actually registered, so a route added without a rule fails here.
import type { Capability } from '../src/authz/principal.js';
import { ROUTE_RULES, ruleFor, type RouteRule } from '../src/authz/route-rules.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_ADMIN_TOKEN, type TestApp } from './app-harness.js';
import { AccountsClient, type Caller } from './accounts-client.js';

let t: TestApp;
let client: AccountsClient;
const callers: Record<string, Caller> = {};
let deploymentId: string;

type Role = 'owner' | 'member' | 'viewer';
/** Each caller's role in the team that owns the resources under test (the default team). */
const ROLE: Record<string, Role | 'none' | 'unauthenticated'> = {
  root: 'owner',
  owner: 'owner',
  member: 'member',
  viewer: 'viewer',
  outsider: 'none',
  'token:read': 'owner',
  'token:deploy': 'owner',
  'token:admin': 'owner',
  'token:other-project': 'owner',
  'token:expired': 'unauthenticated',
  'token:revoked': 'unauthenticated',
  anonymous: 'unauthenticated',
};
const SCOPE_CAP: Record<string, Capability> = { 'token:read': 'read', 'token:deploy': 'deploy' };
const RANK: Record<Capability, number> = { read: 1, deploy: 2, admin: 3 };
const ROLE_CAP: Record<Role, Capability> = { viewer: 'read', member: 'deploy', owner: 'admin' };

beforeAll(async () => {
  t = await startTestApp({ ALLOW_LOCAL_REPOS: 'true' });
  client = new AccountsClient(t.app);
  const root = client.bearer(TEST_ADMIN_TOKEN);
  callers.root = root;
  callers.anonymous = {};
  await client.expect(
    root,
    'POST',
    '/projects',
    { slug: 'a-site', repoUrl: 'https://example.com/a.git', regions: ['eu-west-1'] },
    201,
  );
  await client.expect(
    root,
    'POST',
    '/projects',
    { slug: 'a-other', repoUrl: 'https://example.com/o.git', regions: ['eu-west-1'] },
    201,
  );
  deploymentId = await client.insertDeployment(t.db, 'a-site');
  for (const role of ['owner', 'member', 'viewer'] as const) {
    callers[role] = await client.invitedUser(root, 'default', `${role}@example.com`, role);
  }
  callers.outsider = await client.invitedUser(root, 'default', 'outsider@example.com', 'owner');
  // The outsider leaves the default team for their own.
  await client.expect(callers.outsider, 'POST', '/teams', { slug: 'team-b', name: 'Team B' }, 201);
  const outsiderId = (await client.me(callers.outsider)).user!.id;
  await client.expect(root, 'DELETE', `/teams/default/members/${outsiderId}`, undefined, 204);
  for (const scope of ['read', 'deploy', 'admin'] as const) {
    callers[`token:${scope}`] = client.bearer(
      await client.token(callers.owner!, { name: scope, scopes: [scope] }),
    );
  }
  callers['token:other-project'] = client.bearer(
    await client.token(callers.owner!, { name: 'other', scopes: ['admin'], project: 'a-other' }),
  );
  const expired = await client.token(callers.owner!, {
    name: 'expired',
    scopes: ['admin'],
    expiresInDays: 1,
  });
  await t.db.apiToken.updateMany({
    where: { name: 'expired' },
    data: { expiresAt: new Date(Date.now() - 1000) },
  });
  callers['token:expired'] = client.bearer(expired);
  const revoked = await client.token(callers.owner!, { name: 'revoked', scopes: ['admin'] });
  const revokedId = revoked.split('_')[1]!;
  await client.expect(callers.owner!, 'DELETE', `/tokens/${revokedId}`, undefined, 204);
  callers['token:revoked'] = client.bearer(revoked);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

const apiRoutes = () =>
  [
    ...new Set(
      t.routes
        .filter((r) => r.url.startsWith('/api/v1/'))
        .flatMap((r) => (Array.isArray(r.method) ? r.method : [r.method]).map((m) => `${m} ${r.url}`))
        .filter((k) => !k.startsWith('HEAD ')),
    ),
  ].sort();

/** Routes outside the authenticated scope: how a browser signs in, and invitation links. */
const PUBLIC = new Set([
  'GET /api/v1/session',
  'POST /api/v1/session',
  'POST /api/v1/session/password',
  'DELETE /api/v1/session',
  'POST /api/v1/invitations/accept',
  'GET /api/v1/openapi.json',
  'GET /api/v1/auth/providers',
  'GET /api/v1/auth/oidc/:provider/start',
  'GET /api/v1/auth/oidc/:provider/callback',
  'POST /api/v1/password-reset',
  'POST /api/v1/password-reset/confirm',
]);

describe('the authorisation table', () => {
  it('has a rule for every authenticated route, and no rule for a route that does not exist', () => {
    const routes = apiRoutes().filter((k) => !PUBLIC.has(k));
    expect(routes.filter((k) => !ROUTE_RULES[k])).toEqual([]);
    expect(Object.keys(ROUTE_RULES).filter((k) => !routes.includes(k))).toEqual([]);
  });

  it('states the policy the issue asks for', () => {
    expect(ruleFor('DELETE', '/api/v1/projects/:slug')).toEqual({ on: 'project', need: 'admin' });
    expect(ruleFor('POST', '/api/v1/projects/:slug/deployments')).toEqual({ on: 'project', need: 'deploy' });
    expect(ruleFor('GET', '/api/v1/deployments/:id/logs/stream')).toEqual({ on: 'deployment', need: 'read' });
    expect(ruleFor('POST', '/api/v1/teams/:team/invitations')).toEqual({ on: 'team', need: 'admin' });
  });

  it('gives every route × caller the outcome its rule says', async () => {
    const failures: string[] = [];
    // A route without a rule fails the test above; here it would only add noise.
    for (const key of apiRoutes().filter((k) => !PUBLIC.has(k) && ROUTE_RULES[k])) {
      const rule = ROUTE_RULES[key]!;
      const [method, url] = key.split(' ') as [string, string];
      for (const [name, caller] of Object.entries(callers)) {
        const path = await pathFor(url, method, name);
        const res = await client.call(
          caller,
          method,
          path,
          method === 'GET' || method === 'DELETE' ? undefined : {},
        );
        const want = expected(rule, name);
        const got = classify(rule, res.status, res.body);
        if (got !== want)
          failures.push(`${key} as ${name}: expected ${want}, got ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);
});

/** A concrete path: the default team's resources, and a fresh project for each deletion. */
async function pathFor(url: string, method: string, caller: string): Promise<string> {
  let slug = 'a-site';
  if (method === 'DELETE' && url === '/api/v1/projects/:slug') {
    slug = `del-${caller.replace(/[^a-z]/g, '')}`.slice(0, 30);
    await client.expect(callers.root!, 'POST', '/projects', {
      slug,
      repoUrl: 'https://example.com/d.git',
      regions: ['eu-west-1'],
    });
  }
  return (
    url
      .replace(/^\/api\/v1/, '')
      .replace(':slug', slug)
      .replace(':id', deploymentId)
      .replace(':team', 'default')
      // Nobody's id: an allowed caller reaches the handler's own 404, and the members stay as they are.
      .replace(':userId', 'yyyyyyyyyyyyyyyyyyyyyyyy')
      .replace(':tokenId', 'zzzzzzzzzzzzzzzzzzzzzzzz')
      .replace(':hostname', 'www.example.org')
      .replace(':provider', 'github')
  );
}

type Outcome = 'allowed' | 'unauthorized' | 'forbidden' | 'hidden';

function expected(rule: RouteRule, caller: string): Outcome {
  const role = ROLE[caller]!;
  if (role === 'unauthenticated') return 'unauthorized';
  if (rule.on === 'signed-in') return 'allowed';
  if (rule.on === 'platform') return caller === 'root' ? 'allowed' : 'forbidden';
  if (rule.on === 'user')
    return ['owner', 'member', 'viewer', 'outsider'].includes(caller) ? 'allowed' : 'forbidden';
  // Restricted to another project: the resources under test do not exist for it, and it creates none.
  if (caller === 'token:other-project') return rule.on === 'new-project' ? 'forbidden' : 'hidden';
  // The outsider creating a project makes it in their own team; for an existing slug, "taken".
  if (rule.on === 'new-project' && role === 'none') return 'allowed';
  if (role === 'none') return 'hidden';
  const cap = Math.min(RANK[ROLE_CAP[role]], RANK[SCOPE_CAP[caller] ?? 'admin']);
  return RANK[rule.need] <= cap ? 'allowed' : 'forbidden';
}

/** The refusals have fixed shapes; anything else means the request got past authorisation. */
function classify(rule: RouteRule, status: number, body: unknown): Outcome {
  const b = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  if (status === 401) return 'unauthorized';
  if (status === 403 && b?.code === 'forbidden') return 'forbidden';
  const resourceMissing: Record<string, RegExp> = {
    project: /^Project a-site not found$|^Project del-\w+ not found$/,
    deployment: /^Deployment \w+ not found$/,
    team: /^Team default not found$/,
  };
  if (status === 404 && resourceMissing[rule.on]?.test(b?.message ?? '')) return 'hidden';
  return 'allowed';
}

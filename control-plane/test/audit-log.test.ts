// The audit log on the real app, PostgreSQL and chDB: each audited action leaves an entry in its
// team's log (and only there), with who, what, from where, and names but never secret values.
import type { AuditAction, AuditPage, CreatedInvitation } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_ADMIN_TOKEN, type TestApp } from './app-harness.js';
import { AccountsClient, type Caller } from './accounts-client.js';
import { waitFor } from './logs-harness.js';

let t: TestApp;
let client: AccountsClient;
let root: Caller;

beforeAll(async () => {
  t = await startTestApp({ ALLOW_LOCAL_REPOS: 'true' });
  client = new AccountsClient(t.app);
  root = client.bearer(TEST_ADMIN_TOKEN);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

async function entries(caller: Caller, team: string, query = '') {
  return (await client.expect<AuditPage>(caller, 'GET', `/teams/${team}/audit${query}`)).body;
}

/** Waits until the team's log holds every one of `actions` (writes happen after the response). */
async function waitForActions(caller: Caller, team: string, actions: AuditAction[]) {
  let seen: AuditAction[] = [];
  await waitFor(
    async () => {
      seen = (await entries(caller, team, '?limit=200')).entries.map((e) => e.action);
      return actions.every((a) => seen.includes(a));
    },
    30_000,
    `audit entries ${actions.join(', ')}`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; the log held: ${seen.join(', ') || 'nothing'}`);
  });
}

describe('the audit log', () => {
  it('records deploys, promotes, settings, env, domains, members and tokens, with names but no values', async () => {
    const secret = 'sk_live_value_that_must_not_appear';
    await client.expect(root, 'POST', '/projects', {
      slug: 'audited',
      repoUrl: 'https://example.com/audited.git',
      regions: ['eu-west-1'],
      env: { API_KEY: secret },
    });
    await client.expect(root, 'PATCH', '/projects/audited', { env: { OTHER: secret }, outputDir: 'dist' });
    await client.expect(root, 'POST', '/projects/audited/domains', { hostname: 'www.audited.example' });
    await client.expect(root, 'DELETE', '/projects/audited/domains/www.audited.example');
    await client.expect(root, 'POST', '/projects/audited/deployments', {}, 202);
    const user = await client.invitedUser(root, 'default', 'auditor@example.com', 'member');
    const userId = (await client.me(user)).user!.id;
    await client.expect(root, 'PATCH', `/teams/default/members/${userId}`, { role: 'viewer' });
    await client.token(user, { name: 'ci token', scopes: ['read'] });

    await waitForActions(root, 'default', [
      'project.create',
      'project.update',
      'env.update',
      'domain.add',
      'domain.remove',
      'deployment.create',
      'member.invite',
      'member.join',
      'member.role_change',
      'token.create',
    ]);
    const log = await entries(root, 'default', '?limit=200');
    expect(JSON.stringify(log)).not.toContain(secret);
    const env = log.entries.find((e) => e.action === 'env.update')!;
    expect(env).toMatchObject({
      target: 'audited',
      actor: { kind: 'root', userId: null, label: 'admin token' },
      details: { keys: ['OTHER'] },
    });
    expect(env.ip).toBeTruthy();
    const roleChange = log.entries.find((e) => e.action === 'member.role_change')!;
    expect(roleChange).toMatchObject({ target: userId, details: { role: 'viewer' } });
    const join = log.entries.find((e) => e.action === 'member.join')!;
    expect(join.actor).toMatchObject({ kind: 'user', userId, label: 'auditor@example.com' });
    const deploy = log.entries.find((e) => e.action === 'deployment.create')!;
    expect(deploy.target).toMatch(/^[a-z0-9]{24}$/);

    // Newest first; filterable by action and by who did it.
    const times = log.entries.map((e) => e.at);
    expect([...times].sort().reverse()).toEqual(times);
    const byUser = await entries(root, 'default', `?actor=${userId}`);
    expect(new Set(byUser.entries.map((e) => e.action))).toEqual(new Set(['member.join', 'token.create']));
    const onlyDomains = await entries(root, 'default', '?action=domain.add');
    expect(onlyDomains.entries.map((e) => e.action)).toEqual(['domain.add']);
  });

  it('pages without gaps or repeats', async () => {
    const all = (await entries(root, 'default', '?limit=200')).entries.map((e) => e.id);
    expect(all.length).toBeGreaterThan(5);
    const paged: string[] = [];
    let before: string | null = null;
    do {
      const page: AuditPage = await entries(root, 'default', `?limit=3${before ? `&before=${before}` : ''}`);
      paged.push(...page.entries.map((e) => e.id));
      before = page.nextBefore;
    } while (before);
    expect(paged).toEqual(all);
  });

  it("keeps each team's log to itself, and to its owners", async () => {
    const owner = await client.invitedUser(root, 'default', 'team-owner@example.com', 'owner');
    await client.expect(owner, 'POST', '/teams', { slug: 'audit-b', name: 'B' }, 201);
    const invite = await client.expect<CreatedInvitation>(owner, 'POST', '/teams/audit-b/invitations', {
      email: 'someone@example.com',
      role: 'viewer',
    });
    await waitForActions(owner, 'audit-b', ['team.create', 'member.invite']);
    const b = await entries(owner, 'audit-b', '?limit=200');
    expect(b.entries.map((e) => e.target)).not.toContain('audited');
    expect(b.entries.find((e) => e.action === 'member.invite')?.target).toBe('someone@example.com');
    expect(JSON.stringify(b)).not.toContain(invite.body.acceptToken);

    const viewer = await client.invitedUser(root, 'default', 'audit-viewer@example.com', 'viewer');
    expect((await client.call(viewer, 'GET', '/teams/default/audit')).status).toBe(403);
    expect((await client.call(viewer, 'GET', '/teams/audit-b/audit')).status).toBe(404);
    expect((await client.call(root, 'GET', '/teams/default/audit?before=yesterday')).body).toMatchObject({
      error: { field: 'before' },
    });
  });
});

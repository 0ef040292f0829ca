// Users, sessions, teams and API tokens on the real app and PostgreSQL: sign-in and its backoff,
// session rotation and revocation, tokens stored hashed and revocable, and what one team can
// learn about another's projects.
import type { MeView, ProjectView, TokenView } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_ADMIN_TOKEN, type TestApp } from './app-harness.js';
import { AccountsClient, type Caller } from './accounts-client.js';

let t: TestApp;
let client: AccountsClient;
let root: Caller;
const PASSWORD = 'a long enough password';

beforeAll(async () => {
  t = await startTestApp({ ALLOW_LOCAL_REPOS: 'true' });
  client = new AccountsClient(t.app);
  root = client.bearer(TEST_ADMIN_TOKEN);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

const project = (slug: string) => ({
  slug,
  repoUrl: `https://example.com/${slug}.git`,
  regions: ['eu-west-1'],
});

describe('the bootstrap admin token', () => {
  it('acts as the owner of the default team, where projects without a team go', async () => {
    const me = await client.me(root);
    expect(me).toMatchObject({ kind: 'root', user: null, teams: [{ slug: 'default', role: 'owner' }] });
    await client.expect(root, 'POST', '/projects', project('boot-site'), 201);
    expect((await t.db.project.findUniqueOrThrow({ where: { slug: 'boot-site' } })).teamId).toBe('default');
  });
});

describe('password sign-in', () => {
  it('signs an invited user in, rotates the session at each sign-in, and revokes it at sign-out', async () => {
    const first = await client.invitedUser(root, 'default', 'ada@example.com', 'member', PASSWORD);
    expect((await client.me(first)).user?.email).toBe('ada@example.com');

    const again = await client.call(first, 'POST', '/session/password', {
      email: 'ADA@example.com',
      password: PASSWORD,
    });
    expect(again.status).toBe(200);
    const second: Caller = { cookie: again.setCookie! };
    expect(second.cookie).not.toBe(first.cookie);
    // The browser's previous session ended when it signed in again.
    expect((await client.call(first, 'GET', '/me')).status).toBe(401);
    expect((await client.call(second, 'GET', '/me')).status).toBe(200);

    // Another browser signs in; this one sees both sessions and ends the other.
    const other: Caller = {
      cookie: (
        await client.call({}, 'POST', '/session/password', { email: 'ada@example.com', password: PASSWORD })
      ).setCookie!,
    };
    const listed = await client.expect<{ id: string; current: boolean }[]>(second, 'GET', '/sessions');
    expect(listed.body.filter((s) => s.current)).toHaveLength(1);
    const otherId = listed.body.find((s) => !s.current)!.id;
    await client.expect(second, 'DELETE', `/sessions/${otherId}`, undefined, 204);
    expect((await client.call(other, 'GET', '/me')).status).toBe(401);
    expect((await client.call(second, 'GET', '/me')).status).toBe(200);
    // Nobody ends another user's session: it is not theirs to find.
    const bob = await client.invitedUser(root, 'default', 'ada-neighbour@example.com', 'viewer', PASSWORD);
    const secondId = listed.body.find((s) => s.current)!.id;
    expect((await client.call(bob, 'DELETE', `/sessions/${secondId}`)).status).toBe(404);

    expect((await client.call(second, 'DELETE', '/session')).status).toBe(204);
    expect((await client.call(second, 'GET', '/me')).status).toBe(401);
    const row = await t.db.userSession.findFirstOrThrow({ where: { revokedAt: { not: null } } });
    // Only a hash of the cookie's secret is stored.
    expect(second.cookie).not.toContain(row.secretHash);
  });

  it('answers the same for an unknown email and a wrong password, and backs off after repeated failures', async () => {
    await client.invitedUser(root, 'default', 'bob@example.com', 'viewer', PASSWORD);
    const unknown = await client.call({}, 'POST', '/session/password', {
      email: 'nobody@example.com',
      password: 'x',
    });
    const wrong = await client.call({}, 'POST', '/session/password', {
      email: 'bob@example.com',
      password: 'x',
    });
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);

    for (let i = 0; i < 5; i++)
      await client.call({}, 'POST', '/session/password', {
        email: 'bob@example.com',
        password: `wrong ${i}`,
      });
    // Blocked now: even the right password is not checked until the backoff has passed.
    const blocked = await client.call({}, 'POST', '/session/password', {
      email: 'bob@example.com',
      password: PASSWORD,
    });
    expect(blocked.status).toBe(429);
    expect(blocked.body).toMatchObject({ error: { code: 'rate_limited' } });
    await t.db.user.update({
      where: { email: 'bob@example.com' },
      data: { signInBlockedUntil: new Date(0) },
    });
    const ok = await client.call({}, 'POST', '/session/password', {
      email: 'bob@example.com',
      password: PASSWORD,
    });
    expect(ok.status).toBe(200);
    expect((await t.db.user.findUniqueOrThrow({ where: { email: 'bob@example.com' } })).failedSignIns).toBe(
      0,
    );
  });

  it('refuses bad input naming the field, and an invitation twice', async () => {
    const bad = await client.call({}, 'POST', '/session/password', { email: 'not-an-email', password: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { field: 'email' } });
    const inv = await client.expect<{ acceptToken: string }>(root, 'POST', '/teams/default/invitations', {
      email: 'cy@example.com',
    });
    const short = await client.call({}, 'POST', '/invitations/accept', {
      token: inv.body.acceptToken,
      name: 'Cy',
      password: 'short',
    });
    expect(short.body).toMatchObject({ error: { field: 'password' } });
    const body = { token: inv.body.acceptToken, name: 'Cy', password: PASSWORD };
    expect((await client.call({}, 'POST', '/invitations/accept', body)).status).toBe(200);
    expect((await client.call({}, 'POST', '/invitations/accept', body)).status).toBe(400);
    const forged = { ...body, token: `${inv.body.acceptToken.split('.')[0]}.${'A'.repeat(43)}` };
    expect((await client.call({}, 'POST', '/invitations/accept', forged)).body).toMatchObject({
      error: { code: 'invalid_invitation', field: 'token' },
    });
  });
});

describe('API tokens', () => {
  it('are shown once, stored hashed, record their last use, and stop working when revoked', async () => {
    const user = await client.invitedUser(root, 'default', 'dee@example.com', 'member', PASSWORD);
    const created = await client.expect<TokenView & { token: string }>(
      user,
      'POST',
      '/tokens',
      { name: 'ci', scopes: ['deploy'] },
      201,
    );
    const token = created.body.token;
    // The secret is base64url, so it may hold '_' itself: taken by position, not by split('_').
    const secret = /^dsp_[a-z0-9]{24}_([\w-]{43})$/.exec(token)?.[1];
    expect(secret, token).toBeDefined();
    const row = await t.db.apiToken.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row.lastUsedAt).toBeNull();

    const me = await client.me(client.bearer(token));
    expect(me).toMatchObject({ kind: 'token', user: { email: 'dee@example.com' }, scopes: ['deploy'] });
    expect(
      (await t.db.apiToken.findUniqueOrThrow({ where: { id: created.body.id } })).lastUsedAt,
    ).not.toBeNull();
    const listed = await client.expect<TokenView[]>(user, 'GET', '/tokens');
    expect(listed.body.map((t) => t.name)).toEqual(['ci']);
    expect(JSON.stringify(listed.body)).not.toContain(token);

    await client.expect(user, 'DELETE', `/tokens/${created.body.id}`, undefined, 204);
    expect((await client.call(client.bearer(token), 'GET', '/me')).status).toBe(401);
    // A token that is not one, and a token-shaped string nobody issued, are both just 401.
    expect(
      (await client.call(client.bearer(`dsp_${'a'.repeat(24)}_${'b'.repeat(43)}`), 'GET', '/me')).status,
    ).toBe(401);
  });

  it('cannot be created by another token, and never exceed their owner', async () => {
    const viewer = await client.invitedUser(root, 'default', 'eve@example.com', 'viewer', PASSWORD);
    const admin = await client.token(viewer, { name: 'wants admin', scopes: ['admin'] });
    // The scope says admin, the role says viewer: the role wins.
    const refused = await client.call(client.bearer(admin), 'POST', '/projects', project('eve-site'));
    expect(refused.status).toBe(403);
    expect(
      (await client.call(client.bearer(admin), 'POST', '/tokens', { name: 'x', scopes: ['read'] })).status,
    ).toBe(403);
  });
});

describe('teams', () => {
  it('keep one team’s projects, deployments, logs and lists invisible to another', async () => {
    const alice = await client.invitedUser(root, 'default', 'alice@example.com', 'owner', PASSWORD);
    await client.expect(alice, 'POST', '/teams', { slug: 'alice-co', name: 'Alice Co' }, 201);
    const aliceId = (await client.me(alice)).user!.id;
    await client.expect(root, 'DELETE', `/teams/default/members/${aliceId}`, undefined, 204);
    const me: MeView = await client.me(alice);
    expect(me.teams.map((t) => t.slug)).toEqual(['alice-co']);

    await client.expect(root, 'POST', '/projects', project('secret-site'), 201);
    const deployment = await client.insertDeployment(t.db, 'secret-site');
    // Alice's new project goes to her team, the only one she has.
    await client.expect(alice, 'POST', '/projects', project('alice-site'), 201);
    const aliceTeam = (await t.db.project.findUniqueOrThrow({ where: { slug: 'alice-site' } })).teamId;
    expect(aliceTeam).not.toBe('default');
    // So does a project the one-form deploy creates; and nobody creates one in a team they are not in.
    const quick = await client.call(alice, 'POST', '/deployments', {
      slug: 'alice-quick',
      repoUrl: 'https://example.com/alice-quick.git',
      region: 'eu-west-1',
    });
    expect(quick.status).toBe(202);
    expect((await t.db.project.findUniqueOrThrow({ where: { slug: 'alice-quick' } })).teamId).toBe(aliceTeam);
    const intrude = await client.call(root, 'POST', '/projects', {
      ...project('root-in-alice'),
      team: 'alice-co',
    });
    expect(intrude.status).toBe(404);
    expect(intrude.body).toMatchObject({ error: { field: 'team' } });

    const mine = await client.expect<ProjectView[]>(alice, 'GET', '/projects');
    expect(mine.body.map((p) => p.slug).sort()).toEqual(['alice-quick', 'alice-site']);
    expect((await client.expect<ProjectView[]>(alice, 'GET', '/projects?slug=secret-site')).body).toEqual([]);
    const rootList = await client.expect<ProjectView[]>(root, 'GET', '/projects');
    expect(rootList.body.map((p) => p.slug)).not.toContain('alice-site');

    const notFound = await client.call(alice, 'GET', '/projects/secret-site');
    const missing = await client.call(alice, 'GET', '/projects/no-such-site');
    expect(notFound.status).toBe(404);
    expect(JSON.stringify(notFound.body).replace('secret-site', 'X')).toBe(
      JSON.stringify(missing.body).replace('no-such-site', 'X'),
    );
    expect((await client.call(alice, 'GET', `/deployments/${deployment}`)).status).toBe(404);
    expect((await client.call(alice, 'GET', `/deployments/${deployment}/logs`)).status).toBe(404);
    expect((await client.call(alice, 'GET', '/logs/search?q=x&project=secret-site')).status).toBe(404);
    // A slug is a hostname, global: that it is taken is public, whose it is is not.
    const taken = await client.call(alice, 'POST', '/deployments', {
      slug: 'secret-site',
      repoUrl: 'https://example.com/x.git',
    });
    expect(taken.status).toBe(409);
    expect(JSON.stringify(taken.body)).not.toContain(deployment);
  });

  it('keep at least one owner, and removing a member revokes their tokens for that team', async () => {
    const owner = await client.invitedUser(root, 'default', 'owen@example.com', 'owner', PASSWORD);
    await client.expect(owner, 'POST', '/teams', { slug: 'owen-co', name: 'Owen Co' }, 201);
    const owenId = (await client.me(owner)).user!.id;
    const demote = await client.call(owner, 'PATCH', `/teams/owen-co/members/${owenId}`, { role: 'member' });
    expect(demote.status).toBe(409);
    expect(demote.body).toMatchObject({ error: { field: 'role' } });

    const member = await client.invitedUser(owner, 'owen-co', 'mia@example.com', 'member', PASSWORD);
    const token = await client.token(member, { name: 'owen-co only', scopes: ['deploy'], team: 'owen-co' });
    expect((await client.call(client.bearer(token), 'GET', '/teams/owen-co/members')).status).toBe(200);
    const miaId = (await client.me(member)).user!.id;
    await client.expect(owner, 'DELETE', `/teams/owen-co/members/${miaId}`, undefined, 204);
    expect((await client.call(client.bearer(token), 'GET', '/me')).status).toBe(401);
    expect((await client.call(member, 'GET', '/teams/owen-co/members')).status).toBe(404);
  });
});

describe('password reset', () => {
  it('sends a one-time link, which sets the password, ends every session and works once', async () => {
    const old = await client.invitedUser(root, 'default', 'fay@example.com', 'member', PASSWORD);
    // An unknown email is answered the same, and nothing is sent.
    const before = t.outbox.messages.length;
    const unknown = await client.call({}, 'POST', '/password-reset', { email: 'nobody@example.com' });
    const known = await client.call({}, 'POST', '/password-reset', { email: 'fay@example.com' });
    expect(unknown).toMatchObject({ status: 202 });
    expect(known.body).toEqual(unknown.body);
    expect(t.outbox.messages.length).toBe(before + 1);
    const message = t.outbox.messages.at(-1)!;
    expect(message.to).toBe('fay@example.com');
    const token = /\/reset-password#([a-z0-9]{24}\.[\w-]{43})/.exec(message.text)?.[1];
    expect(token).toBeDefined();
    expect(JSON.stringify(await t.db.passwordReset.findMany())).not.toContain(token!.split('.')[1]);

    const weak = await client.call({}, 'POST', '/password-reset/confirm', { token, password: 'short' });
    expect(weak.body).toMatchObject({ error: { field: 'password' } });
    const done = await client.call({}, 'POST', '/password-reset/confirm', {
      token,
      password: 'a brand new password',
    });
    expect(done.status).toBe(200);
    expect((await client.call({ cookie: done.setCookie! }, 'GET', '/me')).status).toBe(200);
    // The sessions from before the reset are over, and the old password no longer works.
    expect((await client.call(old, 'GET', '/me')).status).toBe(401);
    const oldPassword = await client.call({}, 'POST', '/session/password', {
      email: 'fay@example.com',
      password: PASSWORD,
    });
    expect(oldPassword.status).toBe(401);
    const again = await client.call({}, 'POST', '/password-reset/confirm', {
      token,
      password: 'yet another password',
    });
    expect(again.body).toMatchObject({ error: { code: 'invalid_reset', field: 'token' } });
  });
});

describe('team limits', () => {
  it('let owners cap a team’s projects; creates beyond it are refused naming the team, by any route', async () => {
    const owner = await client.invitedUser(root, 'default', 'lim@example.com', 'owner', PASSWORD);
    await client.expect(owner, 'POST', '/teams', { slug: 'capped', name: 'Capped' }, 201);
    const member = await client.invitedUser(owner, 'capped', 'lim-member@example.com', 'member', PASSWORD);
    expect((await client.call(member, 'PATCH', '/teams/capped', { maxProjects: 50 })).status).toBe(403);
    const bad = await client.call(owner, 'PATCH', '/teams/capped', { maxProjects: -1 });
    expect(bad.body).toMatchObject({ error: { field: 'maxProjects' } });
    const set = await client.expect<{ maxProjects: number | null; projects: number }>(
      owner,
      'PATCH',
      '/teams/capped',
      {
        maxProjects: 1,
      },
    );
    expect(set.body).toMatchObject({ maxProjects: 1, projects: 0 });

    await client.expect(member, 'POST', '/projects', { ...project('capped-one'), team: 'capped' }, 201);
    const second = await client.call(member, 'POST', '/projects', {
      ...project('capped-two'),
      team: 'capped',
    });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: { code: 'limit_reached', field: 'team' } });
    const quick = await client.call(member, 'POST', '/deployments', {
      slug: 'capped-three',
      repoUrl: 'https://example.com/capped-three.git',
      team: 'capped',
    });
    expect(quick.body).toMatchObject({ error: { code: 'limit_reached' } });
    expect(await t.db.project.count({ where: { slug: { in: ['capped-two', 'capped-three'] } } })).toBe(0);

    await client.expect(owner, 'PATCH', '/teams/capped', { maxProjects: null });
    await client.expect(member, 'POST', '/projects', { ...project('capped-two'), team: 'capped' }, 201);
  });
});

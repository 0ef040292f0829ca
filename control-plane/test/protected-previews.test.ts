import { createHash } from 'node:crypto';
import {
  CliDeployCreatedSchema,
  DeploymentViewSchema,
  PROTECTION_AUTH_PATH,
  PROTECTION_COOKIE,
  type CliDeployCreated,
  type CliDeployFile,
  type DeploymentView,
  type ProjectView,
} from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountsClient, type Caller } from './accounts-client.js';
import { startTestPlatform, type EdgeResponse, type TestPlatform } from './harness.js';

// Protected previews on the real local platform: a prebuilt deploy served by the edge in workerd,
// the control plane on real PostgreSQL, and every hop of the sign-in followed as real HTTP
// between them (docs/protected-previews.md).

let t: TestPlatform;
let accounts: AccountsClient;
let member: Caller;
let outsider: Caller;
let preview: DeploymentView;
let production: DeploymentView;

const SLUG = 'guarded';
const PASSWORD = 'open sesame, please';
type Folder = Record<string, string>;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

async function deploy(folder: Folder, target: 'preview' | 'production'): Promise<DeploymentView> {
  const files: Record<string, CliDeployFile> = Object.fromEntries(
    Object.entries(folder).map(([path, text]) => [
      path,
      { hash: sha256(text), size: Buffer.byteLength(text), contentType: 'text/html; charset=utf-8' },
    ]),
  );
  const res = await t.api<CliDeployCreated>('POST', '/cli-deploys', { slug: SLUG, files, target });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const created = CliDeployCreatedSchema.parse(res.body);
  const byHash = new Map(Object.values(folder).map((text) => [sha256(text), text]));
  for (const region of created.regions) {
    for (const grant of region.missing) {
      const put = await fetch(grant.put.url, {
        method: 'PUT',
        headers: grant.put.headers,
        body: byHash.get(grant.hash)!,
      });
      expect(put.status).toBe(200);
    }
  }
  const done = await t.api('POST', `/cli-deploys/${created.deployment.id}/finalize`, {});
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  return DeploymentViewSchema.parse(done.body);
}

const hostOf = (url: string) => new URL(url).hostname;

/** The edge re-reads route records every few seconds: poll `host` until `accept` holds. */
async function edgeUntil(
  host: string,
  accept: (res: EdgeResponse) => boolean,
  headers: Record<string, string> = {},
  path = '/',
): Promise<EdgeResponse> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await t.visit(host, path, headers);
    if (accept(res)) return res;
    if (Date.now() > deadline)
      throw new Error(`${host}${path} still answers ${res.status} ${res.body.slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const isSignInRedirect = (res: EdgeResponse) =>
  res.status === 302 &&
  String(res.headers.location).startsWith(`${t.platform.controlPlaneUrl}/protection/authorize?`);

/** The control plane's answer to a URL the edge redirected to, as a browser with `caller`'s cookies asks. */
async function controlPlane(url: string, caller: Caller = {}, form?: Record<string, string>) {
  const res = await fetch(url, {
    method: form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: {
      ...(caller.cookie ? { cookie: caller.cookie } : {}),
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
  });
  return {
    status: res.status,
    location: res.headers.get('location'),
    body: await res.text(),
    headers: res.headers,
  };
}

/** Follows a grant redirect to the edge: the exchange answers 303 with the cookie and the way back. */
async function redeem(grantUrl: string): Promise<{ cookie: string; location: string; res: EdgeResponse }> {
  const url = new URL(grantUrl);
  expect(url.pathname).toBe(PROTECTION_AUTH_PATH);
  expect(url.port).toBe(new URL(t.platform.edgeUrl).port);
  const res = await t.visit(url.hostname, `${url.pathname}${url.search}`);
  expect(res.status, res.body).toBe(303);
  const setCookie = String(res.headers['set-cookie']);
  expect(setCookie.startsWith(`${PROTECTION_COOKIE}=`)).toBe(true);
  expect(setCookie).toMatch(/HttpOnly; SameSite=Lax$/);
  return { cookie: setCookie.split(';')[0]!, location: String(res.headers.location), res };
}

async function patchProtection(protection: Record<string, unknown>) {
  return t.api<ProjectView & { error?: { field?: string } }>('PATCH', `/projects/${SLUG}`, { protection });
}

beforeAll(async () => {
  t = await startTestPlatform();
  accounts = new AccountsClient(t.platform.fastify);
  production = await deploy({ 'index.html': '<h1>production home</h1>' }, 'production');
  preview = await deploy(
    { 'index.html': '<h1>preview home</h1>', 'docs/index.html': '<h1>preview docs</h1>' },
    'preview',
  );
  const root = accounts.bearer(t.platform.adminToken);
  member = await accounts.invitedUser(root, 'default', 'viewer@example.test', 'viewer');
  // Someone with an account on this platform, but in another team only.
  const founder = await accounts.invitedUser(root, 'default', 'founder@example.test', 'member');
  await accounts.expect(founder, 'POST', '/teams', { slug: 'outsiders', name: 'Outsiders' }, 201);
  outsider = await accounts.invitedUser(founder, 'outsiders', 'outsider@example.test', 'member');
});
afterAll(async () => {
  await t?.stop();
});

describe('protected previews', () => {
  it('is public by default and refuses bad settings naming the field, writing nothing', async () => {
    const view = await t.api<ProjectView>('GET', `/projects/${SLUG}`);
    expect(view.body.protection).toEqual({ mode: 'none', production: false, passwordSet: false });
    expect((await t.visit(hostOf(preview.deploymentUrl))).body).toContain('preview home');

    const noPassword = await patchProtection({ mode: 'password' });
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.error?.field).toBe('protection.password');
    const badMode = await patchProtection({ mode: 'everyone' });
    expect(badMode.status).toBe(400);
    expect(badMode.body.error?.field).toBe('protection.mode');
    const shortPassword = await patchProtection({ mode: 'password', password: 'short' });
    expect(shortPassword.status).toBe(400);
    expect(shortPassword.body.error?.field).toBe('protection.password');
    expect((await t.api<ProjectView>('GET', `/projects/${SLUG}`)).body.protection?.mode).toBe('none');
  });

  it('team mode: an anonymous visitor is sent to sign in, a signed-in member reaches the site', async () => {
    const patched = await patchProtection({ mode: 'team' });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.protection).toEqual({ mode: 'team', production: false, passwordSet: false });

    const host = hostOf(preview.deploymentUrl);
    // 1. The edge: no cookie, so off to the control plane, remembering the path.
    const first = await edgeUntil(host, isSignInRedirect, {}, '/docs/?q=1');
    expect(first.body).not.toContain('preview');
    const authorize = new URL(String(first.headers.location));
    expect(authorize.searchParams.get('host')).toBe(host);
    expect(authorize.searchParams.get('return')).toBe('/docs/?q=1');

    // 2. The control plane, anonymous: a sign-in page, no grant.
    const anonymous = await controlPlane(authorize.toString());
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toContain('is protected');
    expect(anonymous.headers.get('content-security-policy')).toContain("default-src 'none'");
    // Forms post here, and the only place an answer may send them on to is the site itself.
    expect(anonymous.headers.get('content-security-policy')).toContain(
      `form-action 'self' http://${host}:${new URL(t.platform.edgeUrl).port};`,
    );

    // 3. The control plane, with a member's dashboard session: straight back with a grant.
    const signedIn = await controlPlane(authorize.toString(), member);
    expect(signedIn.status).toBe(303);
    const grantUrl = new URL(signedIn.location!);
    expect(grantUrl.hostname).toBe(host);

    // 4. The edge exchanges the grant for its cookie and returns to the original path.
    const { cookie, location } = await redeem(grantUrl.toString());
    expect(location).toBe('/docs/?q=1');

    // 5. The site, with the cookie; without it, still the redirect.
    const served = await t.visit(host, location, { cookie });
    // The site's own clean-URL redirect (/docs/ → /docs), followed with the same cookie.
    const site =
      served.status === 308 ? await t.visit(host, String(served.headers.location), { cookie }) : served;
    expect(site.status).toBe(200);
    expect(site.body).toContain('preview docs');
    expect(isSignInRedirect(await t.visit(host, '/'))).toBe(true);

    // The same dashboard session posted from the sign-in page's "Continue" works as well.
    const continued = await controlPlane(`${t.platform.controlPlaneUrl}/protection/authorize`, member, {
      host,
      return: '/',
      intent: 'session',
    });
    expect(continued.status).toBe(303);
  });

  it('refuses a member of another team, and a grant replayed on another host', async () => {
    const host = hostOf(preview.deploymentUrl);
    const authorize = `${t.platform.controlPlaneUrl}/protection/authorize?host=${host}&return=/`;
    const outside = await controlPlane(authorize, outsider);
    expect(outside.status).toBe(200);
    expect(outside.location).toBeNull();
    const posted = await controlPlane(`${t.platform.controlPlaneUrl}/protection/authorize`, outsider, {
      host,
      return: '/',
      intent: 'session',
    });
    expect(posted.status).toBe(403);
    expect(posted.body).toContain('not a member');

    // A grant for the preview's own host is no good on the project's production host.
    const granted = await controlPlane(authorize, member);
    const grant = new URL(granted.location!);
    const elsewhere = await t.visit(hostOf(production.url), `${grant.pathname}${grant.search}`);
    expect(elsewhere.status).not.toBe(303);
    expect(elsewhere.headers['set-cookie']).toBeUndefined();
  });

  it('never redirects anywhere but the protected host, and has nothing to sign in to on a public host', async () => {
    const host = hostOf(preview.deploymentUrl);
    const base = `${t.platform.controlPlaneUrl}/protection/authorize?host=${host}&return=`;
    for (const bad of [
      'https://evil.example/',
      '//evil.example/',
      '/\\evil.example',
      `https://${host}.evil.example/`,
    ]) {
      const res = await controlPlane(base + encodeURIComponent(bad), member);
      expect(res.status, bad).toBe(400);
      expect(res.location).toBeNull();
    }
    // An absolute URL on the host itself is kept as its path.
    const same = await controlPlane(base + encodeURIComponent(`http://${host}/docs/`), member);
    expect(same.status).toBe(303);
    const { location } = await redeem(same.location!);
    expect(location).toBe('/docs/');

    const publicHost = await controlPlane(
      `${t.platform.controlPlaneUrl}/protection/authorize?host=${hostOf(production.url)}&return=/`,
      member,
    );
    expect(publicHost.status).toBe(404);
  });

  it('keeps production public unless production: true, then protects it too', async () => {
    const prodHost = hostOf(production.url);
    expect((await t.visit(prodHost)).body).toContain('production home');
    expect((await patchProtection({ production: true })).status).toBe(200);
    await edgeUntil(prodHost, isSignInRedirect);
    // Its own deployment host is a preview host: protected all along.
    expect(isSignInRedirect(await t.visit(hostOf(production.deploymentUrl)))).toBe(true);
    const granted = await controlPlane(
      `${t.platform.controlPlaneUrl}/protection/authorize?host=${prodHost}&return=/`,
      member,
    );
    const { cookie } = await redeem(granted.location!);
    expect((await t.visit(prodHost, '/', { cookie })).body).toContain('production home');

    expect((await patchProtection({ production: false })).status).toBe(200);
    await edgeUntil(prodHost, (res) => res.status === 200 && res.body.includes('production home'));
  });

  it('password mode: the right password opens the site, a wrong one does not, and old cookies stop working', async () => {
    const host = hostOf(preview.deploymentUrl);
    const granted = await controlPlane(
      `${t.platform.controlPlaneUrl}/protection/authorize?host=${host}&return=/`,
      member,
    );
    const { cookie: teamCookie } = await redeem(granted.location!);
    expect((await t.visit(host, '/', { cookie: teamCookie })).status).toBe(200);

    const patched = await patchProtection({ mode: 'password', password: PASSWORD });
    expect(patched.status).toBe(200);
    expect(patched.body.protection).toEqual({ mode: 'password', production: false, passwordSet: true });
    expect(JSON.stringify(patched.body)).not.toContain(PASSWORD);
    const stored = await t.db.project.findUniqueOrThrow({ where: { slug: SLUG } });
    expect(stored.protectionPasswordHash).toMatch(/^scrypt\$/);

    // A settings change moves the epoch on: the cookie issued before it is refused.
    const refused = await edgeUntil(host, isSignInRedirect, { cookie: teamCookie });
    expect(refused.headers['x-deploysphere-protection']).toBe('refused-cookie-epoch');

    const page = await controlPlane(String(refused.headers.location));
    expect(page.status).toBe(200);
    expect(page.body).toContain('type="password"');

    const form = { host, return: '/' };
    const wrong = await controlPlane(
      `${t.platform.controlPlaneUrl}/protection/authorize`,
      {},
      { ...form, password: 'not it at all' },
    );
    expect(wrong.status).toBe(401);
    expect(wrong.location).toBeNull();
    const right = await controlPlane(
      `${t.platform.controlPlaneUrl}/protection/authorize`,
      {},
      { ...form, password: PASSWORD },
    );
    expect(right.status).toBe(303);
    const { cookie } = await redeem(right.location!);
    const site = await t.visit(host, '/', { cookie });
    expect(site.status).toBe(200);
    expect(site.body).toContain('preview home');
  });

  it('turning protection off serves every host publicly again', async () => {
    expect((await patchProtection({ mode: 'none' })).status).toBe(200);
    const host = hostOf(preview.deploymentUrl);
    const res = await edgeUntil(host, (r) => r.status === 200);
    expect(res.body).toContain('preview home');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['x-deploysphere-protection']).toBeUndefined();
  });
});

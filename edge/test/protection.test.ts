import { randomBytes } from 'node:crypto';
import {
  deploymentHost,
  importProtectionKey,
  productionHost,
  PROTECTION_AUTH_PATH,
  PROTECTION_COOKIE,
  signProtectionToken,
  type ProtectionCookie,
  type ProtectionGrant,
  type ProtectionKey,
  type RouteRecord,
} from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEdge } from '../src/node/local-edge.js';
import { rawRequest, type RawResponse } from './support/http-client.js';
import { ROOT_DOMAIN, startTestStack, type TestStack } from './support/test-stack.js';

// Protected hosts at the edge, in workerd: the grant exchange, the cookie check and every way a
// cookie or grant can be wrong. The tokens are signed here with the key the edge was given, as
// the control plane signs them (contracts/src/protection.ts is shared by both).

const SIGNING_KEY = randomBytes(32).toString('base64url');
const AUTH_URL = 'http://dashboard.example:3000';
const SITE = '<h1>secret preview</h1>';

let stack: TestStack;
let key: ProtectionKey;
let record: RouteRecord;
const host = deploymentHost('shop', 'p'.repeat(24), ROOT_DOMAIN);
const otherHost = deploymentHost('shop', 'q'.repeat(24), ROOT_DOMAIN);
const publicHost = productionHost('shop', ROOT_DOMAIN);

beforeAll(async () => {
  stack = await startTestStack({
    routeCacheTtlMs: 0,
    protection: { signingKey: SIGNING_KEY, authUrl: AUTH_URL },
  });
  key = await importProtectionKey(SIGNING_KEY);
  const deployed = await stack.deploy(
    [publicHost],
    {
      files: [
        { path: 'index.html', body: SITE },
        { path: 'app.js', body: 'console.log(1)' },
      ],
    },
    { kind: 'production' },
  );
  record = { ...deployed.record, kind: 'deployment', protection: { epoch: 3 } };
  await stack.edge.routes.put(host, record);
  await stack.edge.routes.put(otherHost, record);
});
afterAll(async () => {
  await stack?.stop();
});

const nowS = () => Math.floor(Date.now() / 1000);
const visit = (h: string, path = '/', headers: Record<string, string> = {}, edge: LocalEdge = stack.edge) =>
  rawRequest(edge.url, { host: h, path, headers });
const grant = (over: Partial<ProtectionGrant> = {}, k: ProtectionKey = key) =>
  signProtectionToken(k, { k: 'grant', h: host, r: '/app.js?x=1', e: nowS() + 60, p: 3, ...over });
const cookie = (over: Partial<ProtectionCookie> = {}, k: ProtectionKey = key) =>
  signProtectionToken(k, { k: 'cookie', h: host, e: nowS() + 3600, p: 3, ...over });
const withCookie = (value: string) => ({ cookie: `other=1; ${PROTECTION_COOKIE}=${value}` });

function expectSignInRedirect(res: RawResponse, returnPath: string, outcome: string, onHost = host): void {
  expect(res.status).toBe(302);
  const location = new URL(String(res.headers.location));
  expect(location.origin + location.pathname).toBe(`${AUTH_URL}/protection/authorize`);
  expect(location.searchParams.get('host')).toBe(onHost);
  expect(location.searchParams.get('return')).toBe(returnPath);
  expect(res.headers['x-deploysphere-protection']).toBe(outcome);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.body.toString()).not.toContain('secret preview');
}

describe('a protected host at the edge', () => {
  it('sends an anonymous visitor to the control plane to sign in, with the path to return to', async () => {
    expectSignInRedirect(await visit(host, '/docs/page?tab=2'), '/docs/page?tab=2', 'sign-in');
  });

  it('exchanges a valid grant for a host-only cookie and sends the visitor back; the cookie then opens the site', async () => {
    const res = await visit(host, `${PROTECTION_AUTH_PATH}?token=${await grant()}`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/app.js?x=1');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(
      new RegExp(`^${PROTECTION_COOKIE}=[^;]+; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax$`),
    );
    expect(setCookie).not.toMatch(/Domain=/i); // scoped to this exact host
    expect(setCookie).not.toMatch(/Secure/); // plain http here; https adds it

    const value = setCookie.split(';')[0]!.split('=')[1]!;
    const page = await visit(host, '/', withCookie(value));
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('secret preview');
    // Never stored by a shared cache in front of the edge.
    expect(page.headers['cache-control']).toMatch(/^private\b/);
    expect(page.headers['cache-control']).not.toMatch(/public/);
    // The cookie the edge set is for this host only: the sibling preview still asks to sign in.
    expectSignInRedirect(
      await visit(otherHost, '/', withCookie(value)),
      '/',
      'refused-cookie-host',
      otherHost,
    );
  });

  it('refuses forged, tampered, expired, other-host and old-epoch cookies with a sign-in redirect', async () => {
    const forged = await cookie({}, await importProtectionKey(randomBytes(32).toString('base64url')));
    const good = await cookie();
    const [body, mac] = good.split('.');
    const otherBody = Buffer.from(
      JSON.stringify({ k: 'cookie', h: host, e: nowS() + 999_999, p: 3 }),
    ).toString('base64url');
    const cases: [string, string][] = [
      [forged, 'refused-cookie-signature'],
      [`${otherBody}.${mac}`, 'refused-cookie-signature'],
      [`${body}.${mac!.slice(0, -2)}AA`, 'refused-cookie-signature'],
      ['not-a-token', 'refused-cookie-malformed'],
      [await cookie({ e: nowS() - 1 }), 'refused-cookie-expired'],
      [await cookie({ h: otherHost }), 'refused-cookie-host'],
      [await cookie({ p: 2 }), 'refused-cookie-epoch'],
      // A grant is not a cookie, even though the same key signed it.
      [await grant(), 'refused-cookie-kind'],
    ];
    for (const [value, outcome] of cases) {
      expectSignInRedirect(await visit(host, '/', withCookie(value)), '/', outcome);
    }
    // The good one, for contrast: the refusals above are about the cookie, not the request.
    expect((await visit(host, '/', withCookie(good))).status).toBe(200);
  });

  it('refuses an expired grant, a grant for another host, a forged grant and a cookie offered as a grant', async () => {
    const other = await importProtectionKey(randomBytes(32).toString('base64url'));
    const cases: [string, string][] = [
      [await grant({ e: nowS() - 1 }), 'expired'],
      [await grant({ h: otherHost }), 'host'],
      [await grant({}, other), 'signature'],
      [await grant({ p: 2 }), 'epoch'],
      [await cookie(), 'kind'],
      ['', 'malformed'],
    ];
    for (const [token, reason] of cases) {
      const res = await visit(host, `${PROTECTION_AUTH_PATH}?token=${encodeURIComponent(token)}`);
      expect(res.status, reason).toBe(403);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.headers['x-deploysphere-protection']).toBe(`refused-grant-${reason}`);
      expect(res.body.toString()).toContain('sign-in link has expired');
    }
  });

  it('takes a grant from a newer epoch than its cached record (stale after a settings change), and its cookie keeps that epoch', async () => {
    // The record says epoch 3; the control plane has moved on to 4 and signs with it.
    const res = await visit(host, `${PROTECTION_AUTH_PATH}?token=${await grant({ p: 4 })}`);
    expect(res.status).toBe(303);
    const value = String(res.headers['set-cookie']).split(';')[0]!.split('=')[1]!;
    const payload = JSON.parse(Buffer.from(value.split('.')[0]!, 'base64url').toString()) as { p: number };
    expect(payload.p).toBe(4);
    expect((await visit(host, '/', withCookie(value))).status).toBe(200);
  });

  it('never redirects off the host, whatever return path a grant names', async () => {
    for (const r of ['//evil.example/x', '/\\evil.example', 'https://evil.example/']) {
      const res = await visit(host, `${PROTECTION_AUTH_PATH}?token=${await grant({ r })}`);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/');
    }
  });

  it('serves an unprotected host exactly as before: no redirect, no cookie, its own cache headers', async () => {
    const plain = await visit(publicHost, '/app.js', withCookie('garbage'));
    const bare = await visit(publicHost, '/app.js');
    expect(plain.status).toBe(200);
    expect(plain.headers['set-cookie']).toBeUndefined();
    expect(plain.headers['x-deploysphere-protection']).toBeUndefined();
    expect(plain.headers['cache-control']).toBe('public, max-age=60');
    expect(plain.body.equals(bare.body)).toBe(true);
  });

  it('fails closed on an edge without the signing key: a protected host answers 503, never the site', async () => {
    const keyless = await stack.startEdge({ protection: undefined });
    await keyless.routes.put(host, record);
    const res = await visit(host, '/', withCookie(await cookie()), keyless);
    expect(res.status).toBe(503);
    expect(res.body.toString()).not.toContain('secret preview');
  });
});

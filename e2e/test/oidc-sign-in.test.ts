import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@deploysphere/stack';
import Provider from 'oidc-provider';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountsClient } from '../../control-plane/test/accounts-client.js';
import { startTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../../control-plane/test/app-harness.js';
import { launchChromium } from '../src/launch-chromium.js';

// Single sign-on with OpenID Connect in Debian's Chromium: the real `oidc-provider` on a free
// port (its development login and consent pages), the control plane listening on another, and
// the whole authorization code flow with PKCE, state and nonce between them.

/** The provider's accounts: the login name typed on its page is the subject. */
const ACCOUNTS: Record<string, { email: string; email_verified: boolean; name: string }> = {
  'invited-person': { email: 'sso@example.com', email_verified: true, name: 'Sso Person' },
  stranger: { email: 'stranger@example.com', email_verified: true, name: 'Stranger' },
  unverified: { email: 'owner@example.com', email_verified: false, name: 'Not Really' },
};

let idp: Server;
let issuer: string;
let t: TestApp;
let base: string;
let browser: Browser;

beforeAll(async () => {
  idp = createServer();
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'deploysphere',
        client_secret: 'a-client-secret-for-tests',
        redirect_uris: [`${base}/api/v1/auth/oidc/local/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    cookies: { keys: ['oidc-test-cookie-key'] },
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, ...(ACCOUNTS[sub] ?? { email: `${sub}@example.com`, email_verified: false }) }),
    }),
  });
  idp.on('request', provider.callback());

  t = await startTestApp({
    CONTROL_PLANE_URL: base,
    OIDC_PROVIDERS: JSON.stringify([
      {
        id: 'local',
        name: 'Local IdP',
        issuer,
        clientId: 'deploysphere',
        clientSecret: 'a-client-secret-for-tests',
      },
    ]),
  });
  await t.app.listen({ port, host: '127.0.0.1' });
  const root = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  const client = new AccountsClient(t.app);
  await client.expect(root, 'POST', '/teams/default/invitations', {
    email: 'sso@example.com',
    role: 'member',
  });
  // A user with a password whose email an unverified provider account claims.
  await client.invitedUser(root, 'default', 'owner@example.com', 'owner');
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await new Promise((resolve) => idp?.close(resolve));
});

/** Starts at the control plane, signs in at the provider's pages as `login`, and consents. */
async function signInAtProvider(page: Page, login: string) {
  await page.goto(`${base}/api/v1/auth/oidc/local/start?return=/api/v1/me`);
  await page.waitForURL((url) => url.href.startsWith(issuer));
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'anything');
  await page.click('button[type=submit]');
  // The consent page, then the redirect back through the callback.
  await page.waitForSelector('button[type=submit]');
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.href.startsWith(base));
}

async function bodyJson(page: Page): Promise<Record<string, unknown>> {
  await page.waitForLoadState('load');
  return JSON.parse((await page.textContent('body')) ?? '{}') as Record<string, unknown>;
}

describe('OpenID Connect sign-in', () => {
  it('lists the provider for the sign-in page', async () => {
    const res = await fetch(`${base}/api/v1/auth/providers`);
    expect(await res.json()).toEqual([
      { id: 'local', name: 'Local IdP', startUrl: '/api/v1/auth/oidc/local/start' },
    ]);
  });

  it('signs an invited person in, creating their account, and the session is a real one', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInAtProvider(page, 'invited-person');
    expect(page.url()).toBe(`${base}/api/v1/me`);
    expect(await bodyJson(page)).toMatchObject({
      kind: 'user',
      user: { email: 'sso@example.com', name: 'Sso Person' },
      teams: [{ slug: 'default', role: 'member' }],
    });
    const cookie = (await context.cookies(base)).find((c) => c.name === 'ds_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await context.close();

    // The second time, the linked identity finds the same user.
    const again = await browser.newContext();
    const page2 = await again.newPage();
    await signInAtProvider(page2, 'invited-person');
    expect((await bodyJson(page2)).user).toMatchObject({ email: 'sso@example.com' });
    expect(await t.db.oidcIdentity.count({ where: { provider: 'local', subject: 'invited-person' } })).toBe(
      1,
    );
    await again.close();
  });

  it('refuses a tampered state, and nobody is signed in', async () => {
    const context = await browser.newContext();
    // The redirect to the provider carries a different state than the flow cookie holds; the
    // provider echoes it back, as it would an attacker's. (Redirects inside a navigation cannot
    // be intercepted, so the start's answer is rewritten, Set-Cookie and all.)
    await context.route(`${base}/api/v1/auth/oidc/local/start**`, async (route) => {
      const res = await route.fetch({ maxRedirects: 0 });
      const location = new URL(res.headers().location!);
      location.searchParams.set('state', 'tampered-state');
      await route.fulfill({ status: 302, headers: { ...res.headers(), location: location.href } });
    });
    const page = await context.newPage();
    await signInAtProvider(page, 'invited-person');
    expect(await bodyJson(page)).toMatchObject({ error: { code: 'invalid_sign_in', field: 'state' } });
    expect((await context.cookies(base)).find((c) => c.name === 'ds_session')).toBeUndefined();
    await context.close();
  });

  it('refuses a callback the browser did not start (no flow cookie)', async () => {
    const res = await fetch(`${base}/api/v1/auth/oidc/local/callback?code=abc&state=xyz`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_sign_in' } });
  });

  it('refuses someone without an invitation, and never links an unverified email to an existing user', async () => {
    for (const login of ['stranger', 'unverified']) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await signInAtProvider(page, login);
      expect(await bodyJson(page)).toMatchObject({ error: { code: 'no_account' } });
      await context.close();
    }
    expect(await t.db.oidcIdentity.count({ where: { subject: { in: ['stranger', 'unverified'] } } })).toBe(0);
  });
});

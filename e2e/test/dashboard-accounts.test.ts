import { mkdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort } from '@deploysphere/stack';
import Provider from 'oidc-provider';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../../control-plane/test/app-harness.js';
import { startTestPlatform, type TestPlatform } from '../../control-plane/test/harness.js';
import { buildDashboard } from '../src/build-dashboard.js';
import { launchChromium } from '../src/launch-chromium.js';

// The dashboard's account screens in Debian's Chromium against the whole local platform: the
// admin invites a user from the team page, the user accepts the link in a fresh browser, signs
// out and back in with the password, creates an API token (seen once) and revokes it; the admin
// makes them a viewer and their deploy actions go, and finds the invitation in the team's audit
// log. Each step leaves a screenshot.

const SHOTS = fileURLToPath(new URL('../../test-results/e2e-accounts/', import.meta.url));
const EMAIL = 'ada@example.com';
const PASSWORD = 'analytical engine 1843';

let t: TestPlatform;
let platformRunning = false;
let browser: Browser;
let admin: BrowserContext;
let adminTab: Page;
let user: BrowserContext;
let userTab: Page;
let invitationLink: string;
const consoleErrors: string[] = [];
let shot = 0;

async function screenshot(name: string, target: Page) {
  shot += 1;
  await target.screenshot({ path: `${SHOTS}${String(shot).padStart(2, '0')}-${name}.png`, fullPage: true });
}

function watchConsole(p: Page) {
  p.on('console', (msg: ConsoleMessage) => {
    if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url})`);
  });
  p.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
}

/** `GET /api/v1/me` with a bearer token, from Node (not the browser, which has the cookie). */
async function meWith(token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${t.platform.controlPlaneUrl}/api/v1/me`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  await rm(SHOTS, { recursive: true, force: true });
  await mkdir(SHOTS, { recursive: true });
  await buildDashboard();
  [t, browser] = await Promise.all([startTestPlatform(), launchChromium()]);
  platformRunning = true;
  admin = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await admin.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.platform.controlPlaneUrl });
  adminTab = await admin.newPage();
  watchConsole(adminTab);
});

afterAll(async () => {
  await user?.close();
  await admin?.close();
  await browser?.close();
  await stopPlatform();
});

/** chDB allows one data directory per process: the platform goes before the SSO app starts. */
async function stopPlatform() {
  if (!platformRunning) return;
  platformRunning = false;
  await t.stop();
}

describe('accounts in the dashboard, in a real browser', () => {
  it('the admin signs in with the admin token and invites a user from the team page', async () => {
    await adminTab.goto(t.platform.controlPlaneUrl);
    await adminTab.getByLabel('Email').waitFor();
    await adminTab.getByRole('button', { name: 'Sign in with the admin token' }).click();
    await adminTab.getByLabel('API token').fill(t.platform.adminToken);
    await adminTab.getByLabel('API token').press('Enter');
    await adminTab.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();

    // The admin token owns the default team, which the switcher shows.
    expect(await adminTab.getByRole('combobox', { name: 'Team' }).inputValue()).toBe('default');
    await adminTab.getByRole('link', { name: 'Team', exact: true }).click();
    await adminTab.getByRole('heading', { level: 1, name: 'Default team' }).waitFor();
    expect(new URL(adminTab.url()).pathname).toBe('/teams/default');
    await adminTab.getByText('No members yet.').waitFor();

    // A bad address is refused in the field, before any request.
    const email = adminTab.getByLabel('Email');
    await email.fill('ada at example');
    await adminTab.getByRole('button', { name: 'Invite', exact: true }).click();
    await adminTab.getByText('expected an email address').waitFor();

    await email.fill(EMAIL);
    await adminTab.getByLabel('Role').selectOption('member');
    await adminTab.getByRole('button', { name: 'Invite', exact: true }).click();
    await adminTab.getByText('Copy the link now: it is not shown again.').waitFor();
    invitationLink = (await adminTab.getByLabel('Invitation link', { exact: true }).textContent()) ?? '';
    expect(invitationLink.startsWith(`${t.platform.controlPlaneUrl}/invitation#`)).toBe(true);
    await adminTab.getByRole('button', { name: 'Copy the invitation link' }).click();
    await adminTab.getByRole('button', { name: 'Copy the invitation link' }).getByText('Copied').waitFor();
    expect(await adminTab.evaluate(() => navigator.clipboard.readText())).toBe(invitationLink);
    await screenshot('invitation-link', adminTab);

    // Shown once: a reload of the team page has it nowhere.
    await adminTab.reload();
    await adminTab.getByRole('heading', { level: 1, name: 'Default team' }).waitFor();
    expect(await adminTab.content()).not.toContain(invitationLink.split('#')[1]);
  });

  it('the user opens the link in a fresh browser, chooses a password, and is signed in', async () => {
    user = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await user.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: t.platform.controlPlaneUrl,
    });
    userTab = await user.newPage();
    watchConsole(userTab);
    await userTab.goto(invitationLink);
    await userTab.getByRole('heading', { level: 1, name: 'Join DeploySphere' }).waitFor();
    // The secret leaves the address bar at once.
    await userTab.waitForURL((url) => url.hash === '');

    await userTab.getByLabel('Your name').fill('Ada Lovelace');
    await userTab.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await userTab.getByLabel('Confirm password').fill('something else entirely');
    await userTab.getByRole('button', { name: 'Join and sign in' }).click();
    await userTab.getByText('must match the password').waitFor();
    await userTab.getByLabel('Confirm password').fill(PASSWORD);
    await screenshot('accept-invitation', userTab);
    await userTab.getByRole('button', { name: 'Join and sign in' }).click();

    await userTab.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
    expect(new URL(userTab.url()).pathname).toBe('/');
    const session = (await user.cookies()).find((c) => c.name === 'ds_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // A member may deploy.
    await userTab.getByRole('link', { name: 'New deployment' }).waitFor();
    await userTab.getByRole('link', { name: 'Account' }).click();
    await userTab.getByText(EMAIL).waitFor();
    await userTab.getByText('Default team (member)').waitFor();

    // The link works once.
    const again = await browser.newContext();
    const page = await again.newPage();
    await page.goto(invitationLink);
    await page.getByLabel('Your name').fill('Someone Else');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Join and sign in' }).click();
    await page.getByRole('alert').getByText('That invitation is not valid or has expired').waitFor();
    await again.close();
  });

  it('signs out, is refused a wrong password, and signs in with the right one', async () => {
    await userTab.getByRole('button', { name: 'Sign out' }).click();
    const email = userTab.getByLabel('Email');
    await email.waitFor();
    await email.fill(EMAIL);
    await userTab.getByLabel('Password').fill('not the password');
    await userTab.getByLabel('Password').press('Enter');
    await userTab.getByText('That email and password do not match an account').waitFor();
    await screenshot('wrong-password', userTab);

    await userTab.getByLabel('Password').fill(PASSWORD);
    await userTab.getByRole('button', { name: 'Sign in', exact: true }).click();
    await userTab.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
    expect(await userTab.evaluate(() => document.cookie)).toBe('');
  });

  it('creates an API token, sees its secret once, uses it, and revokes it', async () => {
    await userTab.getByRole('link', { name: 'Account' }).click();
    await userTab.getByText('No tokens yet.').waitFor();
    await userTab.getByLabel('Name', { exact: true }).fill('ci');
    await userTab.getByRole('checkbox', { name: /^deploy/ }).check();
    await userTab.getByLabel('Expires in (days)').fill('30');
    await userTab.getByRole('button', { name: 'Create token' }).click();
    await userTab.getByText('Copy the token now: it is not shown again.').waitFor();
    const token = (await userTab.getByLabel('Token', { exact: true }).textContent()) ?? '';
    expect(token).toMatch(/^dsp_/);
    await userTab.getByRole('button', { name: 'Copy the token' }).click();
    expect(await userTab.evaluate(() => navigator.clipboard.readText())).toBe(token);
    await screenshot('token-created', userTab);

    // The token acts as Ada, with the scopes it was given.
    const me = await meWith(token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: 'token', user: { email: EMAIL } });
    expect([...(me.body.scopes as string[])].sort()).toEqual(['deploy', 'read']);

    // Once: after a reload the list has it, its secret nowhere; its use is recorded.
    await userTab.reload();
    const row = userTab.getByRole('table', { name: 'API tokens' }).getByRole('row', { name: /ci/ });
    await row.waitFor();
    expect(await row.textContent()).toContain('read, deploy');
    expect(await userTab.content()).not.toContain(token);
    expect(await row.locator('td[data-label="Last used"]').textContent()).not.toBe('Never');

    await userTab.getByRole('button', { name: 'Revoke ci' }).click();
    const dialog = userTab.getByRole('dialog', { name: 'Revoke ci?' });
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await userTab.getByText('No tokens yet.').waitFor();
    expect((await meWith(token)).status).toBe(401);
  });

  it("the admin makes the user a viewer, and the user's deploy actions go", async () => {
    await adminTab.reload();
    const role = adminTab.getByLabel('Role of Ada Lovelace');
    await Promise.all([
      adminTab.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/members/')),
      role.selectOption('viewer'),
    ]);
    await adminTab.getByRole('link', { name: 'Projects' }).click();
    await adminTab.getByRole('link', { name: 'Team', exact: true }).click();
    expect(await adminTab.getByLabel('Role of Ada Lovelace').inputValue()).toBe('viewer');
    await screenshot('members', adminTab);

    await userTab.goto(t.platform.controlPlaneUrl);
    await userTab.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
    await userTab.getByText('Your teams have no projects yet.', { exact: false }).waitFor();
    expect(await userTab.getByRole('link', { name: 'New deployment' }).count()).toBe(0);
    // Read-only team page: no role selects, no invitations.
    await userTab.getByRole('link', { name: 'Team', exact: true }).click();
    await userTab.getByText('ada@example.com').waitFor();
    expect(await userTab.getByRole('combobox', { name: /Role of/ }).count()).toBe(0);
    expect(await userTab.getByRole('button', { name: 'Invite', exact: true }).count()).toBe(0);
    // The audit log is the owners'.
    expect(await userTab.getByRole('link', { name: 'Audit log' }).count()).toBe(0);
    await screenshot('viewer-team', userTab);
  });

  it("the owner opens the team's audit log and finds the invitation, filtered by action", async () => {
    await adminTab.getByRole('link', { name: 'Audit log' }).click();
    await adminTab.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    expect(new URL(adminTab.url()).pathname).toBe('/teams/default/audit');
    const table = adminTab.getByRole('table', { name: 'Audit log of default, newest first' });
    const invited = table.getByRole('row', { name: /member\.invite/ });
    await invited.waitFor();
    const text = (await invited.textContent()) ?? '';
    // Who (the admin token), what, to whom, from where (loopback), and the role: a name, not a secret.
    expect(text).toContain('admin token');
    expect(text).toContain(EMAIL);
    expect(await invited.locator('td[data-label="From"]').textContent()).toMatch(
      /^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/,
    );
    expect(text).toContain('role: member');
    expect(text).not.toContain(invitationLink.split('#')[1]);

    await adminTab.getByRole('combobox', { name: 'Action' }).selectOption('member.invite');
    await adminTab.waitForURL((url) => url.searchParams.get('action') === 'member.invite');
    await invited.waitFor();
    const rows = await table.getByRole('row').allTextContents();
    expect(rows.slice(1).every((row) => row.includes('member.invite'))).toBe(true);
    await screenshot('audit-log', adminTab);
  });

  it('the user creates her own team, owns it, and deploys into it again', async () => {
    await userTab.getByRole('link', { name: 'Account' }).click();
    await userTab.getByLabel('Team name').fill('Ada Lab');
    await userTab.getByLabel('Team slug').fill('ada-lab');
    await userTab.getByRole('button', { name: 'Create team' }).click();
    await userTab.getByRole('heading', { level: 1, name: 'Ada Lab' }).waitFor();
    expect(await userTab.getByRole('combobox', { name: 'Team' }).inputValue()).toBe('ada-lab');
    // Owner here: she manages its members, and may deploy again.
    await userTab.getByLabel('Role of Ada Lovelace').waitFor();
    await userTab.getByRole('link', { name: 'New deployment' }).click();
    const team = userTab.getByLabel('Create in team');
    expect(await team.inputValue()).toBe('ada-lab');
    expect(await team.locator('option', { hasText: 'Default team' }).isDisabled()).toBe(true);
    await screenshot('new-deployment-team', userTab);
  });

  it('fits a 390 px viewport', async () => {
    await userTab.setViewportSize({ width: 390, height: 844 });
    const fits = async () =>
      expect(await userTab.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await userTab.goto(t.platform.controlPlaneUrl);
    await userTab.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
    await fits();
    // The account link stays on a phone, and leads to each team's page.
    await userTab.getByRole('link', { name: 'Account' }).click();
    await userTab.getByRole('heading', { level: 1, name: 'Account' }).waitFor();
    await fits();
    await screenshot('mobile-account', userTab);
    await userTab.getByRole('link', { name: 'Default team' }).click();
    await userTab.getByRole('heading', { level: 1, name: 'Default team' }).waitFor();
    await fits();
    await screenshot('mobile-team', userTab);
  });

  it('after repeated wrong passwords, says to wait and for how long', async () => {
    const guesser = await browser.newContext();
    const page = await guesser.newPage();
    watchConsole(page);
    await page.goto(t.platform.controlPlaneUrl);
    await page.getByLabel('Email').fill(EMAIL);
    const tooMany = page.getByRole('alert').getByText(/^Too many sign-in attempts; retry in \d+ s$/);
    // Five failures are free; then each one doubles the account's wait, so a guess soon lands in one.
    for (let attempt = 1; !(await tooMany.isVisible()); attempt += 1) {
      expect(attempt).toBeLessThanOrEqual(10);
      await page.getByLabel('Password').fill(`guess number ${attempt}`);
      await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/v1/session/password')),
        page.getByRole('button', { name: 'Sign in', exact: true }).click(),
      ]);
    }
    await screenshot('too-many-attempts', page);
    await guesser.close();
  });

  it('left no errors in the browser console', () => {
    // The refused passwords, spent link and revoked token are the expected failed requests.
    expect(consoleErrors.filter((e) => !/status of (400|401|429)/.test(e))).toEqual([]);
  });
});

// Single sign-on from the dashboard's own button: the real `oidc-provider` on a free port and a
// control plane configured with it (the light test app, serving the dashboard built above).
describe('single sign-on from the sign-in page, in a real browser', () => {
  let idp: Server;
  let app: TestApp;
  let base: string;
  let issuer: string;

  beforeAll(async () => {
    await stopPlatform();
    idp = createServer();
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    base = `http://127.0.0.1:${await freePort()}`;
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
      findAccount: (_ctx: unknown, sub: string) => ({
        accountId: sub,
        claims: () => ({ sub, email: 'grace@example.com', email_verified: true, name: 'Grace Hopper' }),
      }),
    });
    idp.on('request', provider.callback());
    app = await startTestApp({
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
    await app.app.listen({ port: Number(new URL(base).port), host: '127.0.0.1' });
    // First use of an identity needs a pending invitation for its verified email.
    const invited = await app.app.inject({
      method: 'POST',
      url: '/api/v1/teams/default/invitations',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      payload: { email: 'grace@example.com', role: 'member' },
    });
    expect(invited.statusCode).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
    await new Promise((resolve) => idp?.close(resolve));
  });

  it('signs in through the provider and lands on the page it was opened at', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    watchConsole(page);
    await page.goto(`${base}/account`);
    await page.getByRole('link', { name: 'Sign in with Local IdP' }).click();
    // The provider's own (development) login and consent pages.
    await page.waitForURL((url) => !url.href.startsWith(base));
    await page.fill('input[name=login]', 'grace');
    await page.fill('input[name=password]', 'anything');
    await page.click('button[type=submit]');
    await page.waitForSelector('button[type=submit]');
    await page.click('button[type=submit]');

    await page.waitForURL(`${base}/account`);
    await page.getByRole('heading', { level: 1, name: 'Account' }).waitFor();
    await page.getByText('grace@example.com').waitFor();
    await page.getByText('Default team (member)').waitFor();
    await screenshot('sso-signed-in', page);
    await context.close();
    // The provider's development pages load a web font and a favicon that do not exist here.
    const ours = consoleErrors.filter((e) => !e.includes(issuer) && !e.includes('fonts.googleapis.com'));
    expect(ours.filter((e) => !/status of (400|401|429)/.test(e))).toEqual([]);
  });
});

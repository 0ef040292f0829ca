import { createHash } from 'node:crypto';
import {
  CliDeployCreatedSchema,
  DeploymentViewSchema,
  PROTECTION_COOKIE,
  type CliDeployFile,
  type DeploymentView,
} from '@deploysphere/contracts';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountsClient } from '../../control-plane/test/accounts-client.js';
import { startTestPlatform, type TestPlatform } from '../../control-plane/test/harness.js';
import { launchChromium } from '../src/launch-chromium.js';

// Protected previews in Debian's Chromium against the whole local platform: the site on
// http://<host>.localhost:<edge port>, the control plane on 127.0.0.1, so the dashboard's
// SameSite=Strict session meets a cross-site redirect exactly as it would in production with a
// custom domain (docs/protected-previews.md, "Why a Continue button").

const SLUG = 'browser-guarded';
const EMAIL = 'reviewer@example.com';
const PASSWORD = 'a long enough password';
const SITE_PASSWORD = 'preview password 42';

let t: TestPlatform;
let browser: Browser;
let preview: DeploymentView;
const contexts: BrowserContext[] = [];

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

async function deployPreview(): Promise<DeploymentView> {
  const text = '<!doctype html><title>preview</title><h1>preview home</h1>';
  const files: Record<string, CliDeployFile> = {
    'index.html': {
      hash: sha256(text),
      size: Buffer.byteLength(text),
      contentType: 'text/html; charset=utf-8',
    },
  };
  const res = await t.api('POST', '/cli-deploys', { slug: SLUG, files });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const created = CliDeployCreatedSchema.parse(res.body);
  for (const region of created.regions) {
    for (const grant of region.missing) {
      const put = await fetch(grant.put.url, { method: 'PUT', headers: grant.put.headers, body: text });
      expect(put.status).toBe(200);
    }
  }
  const done = await t.api('POST', `/cli-deploys/${created.deployment.id}/finalize`, {});
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  return DeploymentViewSchema.parse(done.body);
}

/** Sets the project's protection and waits until the edge has the new record. */
async function protect(protection: Record<string, unknown>) {
  const res = await t.api('PATCH', `/projects/${SLUG}`, { protection });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext();
  contexts.push(context);
  return context;
}

beforeAll(async () => {
  [t, browser] = await Promise.all([startTestPlatform(), launchChromium()]);
  preview = await deployPreview();
  const accounts = new AccountsClient(t.platform.fastify);
  await accounts.invitedUser(accounts.bearer(t.platform.adminToken), 'default', EMAIL, 'viewer', PASSWORD);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await t?.stop();
});

describe('protected previews in a real browser', () => {
  it('team mode: an anonymous visitor sees the sign-in page, a signed-in member ends on the site', async () => {
    await protect({ mode: 'team' });
    const host = new URL(preview.deploymentUrl).hostname;
    await expect.poll(async () => (await t.visit(host)).status, { timeout: 30_000 }).toBe(302);

    const anonymous = await (await newContext()).newPage();
    await anonymous.goto(preview.deploymentUrl);
    await anonymous.getByRole('heading', { name: `${host} is protected` }).waitFor();
    expect(new URL(anonymous.url()).origin).toBe(t.platform.controlPlaneUrl);
    expect(await anonymous.content()).not.toContain('preview home');

    const member = await newContext();
    const signIn = await member.request.post(`${t.platform.controlPlaneUrl}/api/v1/session/password`, {
      data: { email: EMAIL, password: PASSWORD },
    });
    expect(signIn.status()).toBe(200);
    const page = await member.newPage();
    // Typed into the address bar, the navigation is the browser's own: Chromium sends the Strict
    // session cookie along the redirect and the member goes straight back to the site.
    await page.goto(preview.deploymentUrl);
    const site = page.getByRole('heading', { name: 'preview home' });
    await site.waitFor();

    // Followed from a link on another site, the redirect is cross-site and the Strict cookie is
    // held back: the sign-in page's button posts from the control plane's own origin instead.
    await member.clearCookies({ name: PROTECTION_COOKIE });
    const linked = await member.newPage();
    await linked.setContent(`<a href="${preview.deploymentUrl}">open the preview</a>`);
    await linked.getByRole('link', { name: 'open the preview' }).click();
    const continueButton = linked.getByRole('button', { name: 'Continue as a signed-in team member' });
    await continueButton.waitFor();
    await continueButton.click();
    await linked.getByRole('heading', { name: 'preview home' }).waitFor();
    expect(new URL(linked.url()).hostname).toBe(host);

    expect(new URL(page.url()).hostname).toBe(host);
    expect(new URL(page.url()).pathname).toBe('/');

    const [cookie] = (await member.cookies(preview.deploymentUrl)).filter(
      (c) => c.name === PROTECTION_COOKIE,
    );
    expect(cookie).toMatchObject({ domain: host, httpOnly: true, sameSite: 'Lax', path: '/' });
    // Host-only: not sent to the project's production host or any other site.
    expect(
      (await member.cookies(`http://other.localhost:${new URL(preview.deploymentUrl).port}`)).length,
    ).toBe(0);
    // Reloading is served by the edge alone, from the cookie.
    await page.reload();
    await site.waitFor();
  });

  it('password mode: the right password, typed into the form, opens the site', async () => {
    await protect({ mode: 'password', password: SITE_PASSWORD });
    const host = new URL(preview.deploymentUrl).hostname;
    const page = await (await newContext()).newPage();
    await expect
      .poll(
        async () => {
          await page.goto(preview.deploymentUrl);
          return page.getByLabel('Password').isVisible();
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'View the site' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('not right');
    await page.getByLabel('Password').fill(SITE_PASSWORD);
    await page.getByRole('button', { name: 'View the site' }).click();
    await page.getByRole('heading', { name: 'preview home' }).waitFor();
    expect(new URL(page.url()).hostname).toBe(host);
  });
});

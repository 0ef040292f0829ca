import { mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from '../../control-plane/test/git-repo.js';
import { startTestPlatform, type TestPlatform } from '../../control-plane/test/harness.js';
import { buildDashboard } from '../src/build-dashboard.js';
import { launchChromium } from '../src/launch-chromium.js';

// The dashboard in Debian's Chromium against the whole platform, as `npm start` runs it: sign in,
// deploy through the form to two regions, follow the logs live, visit the site, promote the
// previous deployment back, and see a failed build's error. Each step leaves a screenshot.

const SHOTS = fileURLToPath(new URL('../../test-results/e2e/', import.meta.url));
const ESC = '\\033';
const page = (text: string) =>
  `<!doctype html><html><head><title>${text}</title></head><body><h1>${text}</h1></body></html>`;
// Slow enough that the first lines arrive well before `ready`; colour and stderr for the viewer.
const BUILD =
  `printf '${ESC}[32m%s${ESC}[0m\\n' 'compiling site' && echo 'a warning on stderr' >&2 && ` +
  `for i in 1 2 3 4 5 6; do echo "step $i of 6"; sleep 1; done && mkdir -p dist && cp -r site/. dist/`;

let t: TestPlatform;
let browser: Browser;
let context: BrowserContext;
let tab: Page;
let repo: GitRepo;
const consoleErrors: string[] = [];
let shot = 0;

async function screenshot(name: string, target: Page = tab) {
  shot += 1;
  await target.screenshot({ path: `${SHOTS}${String(shot).padStart(2, '0')}-${name}.png`, fullPage: true });
}

/** Every console error and uncaught page error, checked at the end. */
function watchConsole(p: Page) {
  p.on('console', (msg: ConsoleMessage) => {
    if (msg.type() !== 'error') return;
    const url = msg.location().url;
    consoleErrors.push(`${msg.text()} (${url})`);
  });
  p.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
}

/** Loads a site through the edge until it shows `text`: a promote is live within a moment. */
async function expectSite(p: Page, url: string, text: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await p.goto(url);
    const body = (await p.textContent('body')) ?? '';
    if (res?.ok() && body.includes(text)) return;
    if (Date.now() > deadline) throw new Error(`${url} still shows: ${body.slice(0, 200)}`);
    await p.waitForTimeout(250);
  }
}

async function deploymentIdFromUrl(p: Page): Promise<string> {
  await p.waitForURL(/\/deployments\/[a-z0-9]{24}$/);
  return new URL(p.url()).pathname.split('/').pop()!;
}

beforeAll(async () => {
  await rm(SHOTS, { recursive: true, force: true });
  await mkdir(SHOTS, { recursive: true });
  await buildDashboard();
  [t, browser, repo] = await Promise.all([
    startTestPlatform({ BUILD_TIMEOUT_MS: '120000' }),
    launchChromium(),
    GitRepo.create({ 'site/index.html': page('Version one of the site') }),
  ]);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Europe/Dublin' });
  tab = await context.newPage();
  watchConsole(tab);
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await t?.stop();
  if (repo) await rm(repo.dir, { recursive: true, force: true });
});

describe('the dashboard in a real browser', () => {
  let firstId: string;
  let productionUrl: string;

  it('signs in with the API token, from the keyboard, into an httpOnly session', async () => {
    await tab.goto(t.platform.controlPlaneUrl);
    // Email and password is the default; the admin token is one switch away.
    await tab.getByRole('button', { name: 'Sign in with the admin token' }).click();
    const field = tab.getByLabel('API token');
    await field.waitFor();
    await screenshot('sign-in');

    // A wrong token: the API's message, and still signed out.
    await field.fill('not-the-token');
    await field.press('Enter');
    await tab.getByText('That API token is not valid').waitFor();

    // The field has focus on load; typing and Enter is all it takes.
    await field.fill(t.platform.adminToken);
    await field.press('Enter');
    await tab.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
    await tab.getByText('No projects yet').waitFor();
    await screenshot('projects-empty');

    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'ds_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(session?.value).not.toContain(t.platform.adminToken);
    expect(await tab.evaluate(() => document.cookie)).toBe('');
  });

  it('creates a deployment through the form, in two regions, and watches its logs arrive live until ready', async () => {
    await tab.getByRole('link', { name: 'Deploy your first project' }).click();
    await tab.getByRole('heading', { level: 1, name: 'New deployment' }).waitFor();

    // The hint names the platform's own site URLs (root domain and edge port), from GET /sites.
    await tab.getByText(`Your site will be at ${t.platform.siteUrlPattern}.`).waitFor();

    await tab.getByLabel('Repo URL').fill(repo.url);
    await tab.getByLabel('Install command').fill('true');
    await tab.getByLabel('Build command').fill(BUILD);
    // Live validation from the contract's schema while typing.
    const slug = tab.getByLabel('Project slug');
    await slug.fill('E2E');
    await tab.getByText('may contain only lowercase letters, digits and hyphens').waitFor();
    await slug.fill('e2e-site');
    await tab.getByText('e2e-site is available').waitFor();

    // The time zone is Europe/Dublin, so Ireland is marked nearest and preselected as primary.
    const ireland = tab.getByRole('checkbox', { name: /eu-west-1/ });
    expect(await ireland.isChecked()).toBe(true);
    await tab.locator('.region-option', { hasText: 'eu-west-1' }).getByText('Nearest to you').waitFor();
    await tab.getByRole('checkbox', { name: /ap-southeast-1/ }).check();
    await tab.locator('.region-option', { hasText: 'eu-west-1' }).getByText('Primary').waitFor();
    await screenshot('new-deployment-form');

    await tab.getByRole('button', { name: 'Deploy' }).click();
    firstId = await deploymentIdFromUrl(tab);

    // Logs stream in while the build still runs: the first step is on screen before `ready`.
    await tab.locator('.log-row', { hasText: 'step 1 of 6' }).waitFor();
    const statusWhileLogging = await tab.locator('.page-actions .status').getAttribute('data-status');
    expect(['queued', 'building']).toContain(statusWhileLogging);
    await tab.locator('.live-dot').waitFor();
    await screenshot('deployment-building');

    await tab.locator('.page-actions .status[data-status="ready"]').waitFor({ timeout: 180_000 });
    await tab.locator('.log-row', { hasText: 'step 6 of 6' }).waitFor();
    // ANSI colour and the stderr highlight, rendered by the viewer.
    await tab.locator('.log-msg .ansi-green-fg', { hasText: 'compiling site' }).waitFor();
    await tab.locator('.log-row.log-stderr', { hasText: 'a warning on stderr' }).waitFor();
    expect(await tab.locator('.step-done').count()).toBe(6);
    const view = await t.api<{ regions: string[]; status: string }>('GET', `/deployments/${firstId}`);
    expect(view.body).toMatchObject({ status: 'ready', regions: ['eu-west-1', 'ap-southeast-1'] });
    await screenshot('deployment-ready');
  });

  it('opens the site URL and sees the app', async () => {
    const link = tab.getByRole('link', { name: /^e2e-site\.localhost/ }).first();
    productionUrl = (await link.getAttribute('href'))!;
    expect(productionUrl).toMatch(/^http:\/\/e2e-site\.localhost:\d+/);
    const site = await context.newPage();
    await expectSite(site, productionUrl, 'Version one of the site');
    await screenshot('site-version-one', site);
    await site.close();
  });

  it('redeploys a new commit, then promotes the previous deployment and sees the old content', async () => {
    await repo.commit({ 'site/index.html': page('Version two of the site') }, 'v2');
    await tab.getByRole('link', { name: 'e2e-site', exact: true }).click();
    await tab.getByRole('heading', { level: 1, name: 'e2e-site' }).waitFor();
    await tab.getByRole('button', { name: 'Redeploy' }).click();
    const secondId = await deploymentIdFromUrl(tab);
    expect(secondId).not.toBe(firstId);
    await tab.locator('.page-actions .status[data-status="ready"]').waitFor({ timeout: 180_000 });
    const site = await context.newPage();
    await expectSite(site, productionUrl, 'Version two of the site');

    await tab.getByRole('link', { name: 'e2e-site', exact: true }).click();
    const history = tab.getByRole('table');
    await history.waitFor();
    expect(await history.locator('tbody tr').count()).toBe(2);
    await history.locator('tr.is-production', { hasText: secondId.slice(0, 9) }).waitFor();
    await screenshot('project-history');

    await tab.getByRole('button', { name: `Promote ${firstId.slice(0, 9)} to production` }).click();
    const dialog = tab.getByRole('dialog', { name: 'Promote to production?' });
    await dialog.waitFor();
    await screenshot('promote-confirmation');
    await dialog.getByRole('button', { name: 'Promote' }).click();
    await tab.getByText(`Deployment ${firstId.slice(0, 9)} is now in production.`).waitFor();
    await history.locator('tr.is-production', { hasText: firstId.slice(0, 9) }).waitFor();
    await screenshot('promoted');

    await expectSite(site, productionUrl, 'Version one of the site');
    await screenshot('site-old-content-after-promote', site);
    await site.close();
  });

  it("charts the site's traffic per region", async () => {
    // The edge ships its counts with a request once its flush interval (2 s locally) has passed.
    const site = await context.newPage();
    await site.goto(productionUrl);
    await new Promise((r) => setTimeout(r, 2_500));
    await site.goto(productionUrl);
    await site.close();
    await tab.goto(`${t.platform.controlPlaneUrl}/projects/e2e-site/traffic`);
    const chart = tab.getByRole('img', { name: /Requests per/ });
    for (let i = 0; i < 20 && !(await chart.isVisible()); i++) {
      await new Promise((r) => setTimeout(r, 1_000));
      await tab.reload();
      await tab.getByRole('heading', { name: 'Traffic' }).waitFor();
    }
    await chart.waitFor();
    await tab.getByText(/eu-west-1: [1-9]/).waitFor();
    await screenshot('project-traffic');

    // The window is in the URL: a reload keeps it.
    await tab.getByLabel('Window').selectOption('1h');
    await tab.waitForURL(/\/projects\/e2e-site\/traffic\?window=1h$/);
    await tab.reload();
    await tab.getByText(/eu-west-1: [1-9]/).waitFor();
    expect(await tab.getByLabel('Window').inputValue()).toBe('1h');
  });

  it('keeps env var values write-only in the settings', async () => {
    // A deep link: the control plane answers client routes with index.html.
    await tab.goto(`${t.platform.controlPlaneUrl}/projects/e2e-site/settings`);
    await tab.getByRole('heading', { name: 'Environment variables' }).waitFor();
    await tab.getByLabel('Name').fill('API_SECRET');
    await tab.getByLabel('Value').fill('s3cr3t-value');
    await tab.getByRole('button', { name: 'Add variable' }).click();
    await tab.getByText('API_SECRET added.').waitFor();
    await tab.getByRole('list', { name: 'Variables' }).getByText('API_SECRET').waitFor();
    expect(await tab.content()).not.toContain('s3cr3t-value');
    const project = await t.api<{ envKeys: string[] }>('GET', '/projects/e2e-site');
    expect(project.body.envKeys).toEqual(['API_SECRET']);
    await screenshot('project-settings');
  });

  it('attaches and removes a custom domain in the settings', async () => {
    await tab.getByLabel('Domain', { exact: true }).fill('WWW.E2E-Example.test');
    await tab.getByRole('button', { name: 'Add domain' }).click();
    await tab.getByText('www.e2e-example.test added.').waitFor();
    await tab.getByRole('list', { name: 'Domains' }).getByText('www.e2e-example.test').waitFor();
    expect((await t.api<{ domains: string[] }>('GET', '/projects/e2e-site')).body.domains).toEqual([
      'www.e2e-example.test',
    ]);
    await tab.getByRole('button', { name: 'Remove www.e2e-example.test' }).click();
    await tab.getByText('www.e2e-example.test removed.').waitFor();
    expect((await t.api<{ domains: string[] }>('GET', '/projects/e2e-site')).body.domains).toEqual([]);
  });

  it('shows a failing build its error', async () => {
    await tab.getByRole('link', { name: 'New deployment' }).click();
    await tab.getByLabel('Repo URL').fill(repo.url);
    await tab.getByLabel('Install command').fill('true');
    await tab.getByLabel('Build command').fill(`echo 'cannot find module "./missing.js"' >&2 && exit 3`);
    await tab.getByLabel('Project slug').fill('e2e-broken');
    await tab.getByText('e2e-broken is available').waitFor();
    await tab.getByRole('button', { name: 'Deploy' }).click();
    await deploymentIdFromUrl(tab);

    const failure = tab.locator('.callout.error');
    await failure.waitFor({ timeout: 180_000 });
    expect(await failure.textContent()).toMatch(/Build failed.*\S/);
    await tab.locator('.page-actions .status[data-status="error"]').waitFor();
    await tab.locator('.step-failed').waitFor();
    await tab.locator('.log-row.log-stderr', { hasText: 'cannot find module' }).waitFor();
    expect(await tab.getByRole('button', { name: 'Cancel deployment' }).count()).toBe(0);
    await screenshot('deployment-failed');
  });

  it('works on a narrow viewport', async () => {
    await tab.setViewportSize({ width: 390, height: 844 });
    await tab.getByRole('link', { name: 'DeploySphere' }).click();
    await tab.getByRole('link', { name: 'e2e-broken', exact: true }).waitFor();
    await tab.getByRole('link', { name: 'e2e-site', exact: true }).waitFor();
    await screenshot('mobile-projects');
    // Nothing overflows sideways.
    expect(await tab.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await tab.getByRole('link', { name: 'e2e-site', exact: true }).click();
    await tab.getByRole('table').waitFor();
    expect(await tab.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot('mobile-project');
    await tab.getByRole('table').getByRole('link').first().click();
    await tab.locator('.log-row').first().waitFor();
    expect(await tab.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot('mobile-deployment');
    await tab.setViewportSize({ width: 1280, height: 900 });
  });

  it('signs out, and the session is gone after a reload', async () => {
    await tab.getByRole('button', { name: 'Sign out' }).click();
    await tab.getByLabel('Email').waitFor();
    await tab.reload();
    await tab.getByLabel('Email').waitFor();
    expect((await context.cookies()).find((c) => c.name === 'ds_session')).toBeUndefined();
    const res = await tab.evaluate(async () => (await fetch('/api/v1/projects')).status);
    expect(res).toBe(401);
    await screenshot('signed-out');
  });

  it('left no errors in the browser console', () => {
    // The 401 just above is the only expected one: fetch() logs it as a failed resource.
    expect(consoleErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  });
});

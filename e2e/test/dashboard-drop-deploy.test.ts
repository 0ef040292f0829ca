import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliDeployCreated, DeploymentView } from '@deploysphere/contracts';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../control-plane/test/harness.js';
import { buildDashboard } from '../src/build-dashboard.js';
import { launchChromium } from '../src/launch-chromium.js';

// "Deploy a folder" in Debian's Chromium against the whole local platform: sign in, choose a
// folder through the directory input, deploy it to two regions; the browser PUTs the blobs
// straight to both regions' buckets (s3rver with CORS for the dashboard's origin) and the edge
// serves the files and the _redirects rule. A second drop with one file changed PUTs exactly one
// blob per region. Then the trust boundary, attacked from the signed-in page itself.

const SHOTS = fileURLToPath(new URL('../../test-results/e2e-drop/', import.meta.url));
const SLUG = 'drop-site';
const html = (text: string) =>
  `<!doctype html><html><head><title>${text}</title></head><body><h1>${text}</h1></body></html>`;

let t: TestPlatform;
let browser: Browser;
let context: BrowserContext;
let tab: Page;
let root: string;
let folder: string;
const consoleErrors: string[] = [];
/** Every PUT the page sent, by host: the buckets of the two regions. */
let puts: string[] = [];
let shot = 0;

async function screenshot(name: string) {
  shot += 1;
  await tab.screenshot({ path: `${SHOTS}${String(shot).padStart(2, '0')}-${name}.png`, fullPage: true });
}

async function writeFolder(files: Record<string, string>) {
  for (const [path, body] of Object.entries(files)) {
    await mkdir(dirname(join(folder, path)), { recursive: true });
    await writeFile(join(folder, path), body);
  }
}

/** Loads a URL until its body shows `text`: the edge learns a new deployment within a moment. */
async function expectSite(url: string, text: string) {
  const page = await context.newPage();
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      const res = await page.goto(url);
      const body = (await page.textContent('body')) ?? '';
      if (res?.ok() && body.includes(text)) return;
      if (Date.now() > deadline) throw new Error(`${url} still shows: ${body.slice(0, 200)}`);
      await page.waitForTimeout(250);
    }
  } finally {
    await page.close();
  }
}

/** Chooses the folder as the directory input (`webkitdirectory`) takes it. */
async function chooseFolder() {
  await tab.locator('input[type=file]').setInputFiles(folder);
  // index.html, about/index.html, assets/site.css; _redirects is a rule, .deploysphere skipped.
  await tab.getByRole('status', { name: 'Folder' }).getByText(`${SLUG}: 3 files`).waitFor();
}

/** Deploys the chosen folder and answers the deployment the page reports. */
async function deploy(): Promise<DeploymentView> {
  puts = [];
  await tab.getByRole('button', { name: 'Deploy', exact: true }).click();
  const done = tab.getByRole('status', { name: 'Deployed' });
  await done.or(tab.getByRole('alert')).waitFor({ timeout: 120_000 });
  if (!(await done.isVisible())) throw new Error(await tab.getByRole('alert').innerText());
  const href = await done.getByRole('link', { name: 'Open the deployment' }).getAttribute('href');
  const id = href!.split('/').pop()!;
  return (await t.api<DeploymentView>('GET', `/deployments/${id}`)).body;
}

/** `fetch` from the signed-in page: the session cookie is all it holds, as the drop itself. */
function pageFetch(path: string, init: { method: string; body?: unknown }) {
  return tab.evaluate(
    async ({ path, init }) => {
      const res = await fetch(`/api/v1${path}`, {
        method: init.method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(init.body ?? {}),
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as unknown };
    },
    { path, init },
  );
}

beforeAll(async () => {
  await rm(SHOTS, { recursive: true, force: true });
  await mkdir(SHOTS, { recursive: true });
  root = await mkdtemp(join(tmpdir(), 'e2e-drop-'));
  folder = join(root, SLUG);
  await writeFolder({
    'index.html': html('Dropped home'),
    'about/index.html': html('About, version one'),
    'assets/site.css': 'h1 { color: rebeccapurple }',
    _redirects: '/old /about/ 301\n',
    // The CLI's project link: never uploaded (nor counted).
    '.deploysphere/project.json': '{"v":1,"project":"elsewhere"}',
  });
  await buildDashboard();
  [t, browser] = await Promise.all([startTestPlatform(), launchChromium()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Europe/Dublin' });
  tab = await context.newPage();
  tab.on('console', (msg: ConsoleMessage) => {
    if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url})`);
  });
  tab.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
  tab.on('request', (req) => {
    if (req.method() === 'PUT') puts.push(new URL(req.url()).host);
  });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await t?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('Deploy a folder, in a real browser', () => {
  let first: DeploymentView;

  it('signs in and finds "Deploy a folder" on the projects list', async () => {
    await tab.goto(t.platform.controlPlaneUrl);
    await tab.getByRole('button', { name: 'Sign in with the admin token' }).click();
    await tab.getByLabel('API token').fill(t.platform.adminToken);
    await tab.getByLabel('API token').press('Enter');
    await tab.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
    await tab.getByRole('link', { name: 'Deploy a folder' }).click();
    await tab.getByRole('heading', { level: 1, name: 'Deploy a folder' }).waitFor();
  });

  it('takes files dropped on the zone', async () => {
    // A synthetic drop carries files but no file-system entries (a real folder drop does): the
    // page takes them as loose files at the top of the site. Then the folder input replaces them.
    await tab.locator('.drop-zone').evaluate((zone) => {
      const data = new DataTransfer();
      data.items.add(new File(['<h1>a</h1>'], 'a.html', { type: 'text/html' }));
      data.items.add(new File(['/x /a.html 301'], '_redirects'));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await tab.getByRole('status', { name: 'Folder' }).getByText('Dropped files: 1 file').waitFor();
    await tab.getByRole('status', { name: 'Folder' }).getByText('_redirects').waitFor();
  });

  it('deploys a chosen folder to two regions, PUTting every blob from the browser, and the edge serves it', async () => {
    await chooseFolder();
    await tab.getByRole('status', { name: 'Folder' }).getByText('_redirects').waitFor();

    // The folder's name is the suggested slug; the contract's SlugSchema checks what is typed.
    const slug = tab.getByLabel('Project');
    expect(await slug.inputValue()).toBe(SLUG);
    await slug.fill('Not A Slug');
    await tab.getByText('may contain only lowercase letters, digits and hyphens').waitFor();
    await slug.fill(SLUG);
    await tab.getByText(`Creates the project ${SLUG}`).waitFor();
    // Ireland is nearest (Europe/Dublin) and preselected; Singapore is added.
    expect(await tab.getByRole('checkbox', { name: /eu-west-1/ }).isChecked()).toBe(true);
    await tab.getByRole('checkbox', { name: /ap-southeast-1/ }).check();
    await tab.getByLabel('Production').check();
    await screenshot('drop-form');

    first = await deploy();
    await screenshot('drop-deployed');
    expect(first).toMatchObject({
      status: 'ready',
      target: 'production',
      regions: ['eu-west-1', 'ap-southeast-1'],
    });
    expect(first.stats.files).toBe(3);
    // Three distinct blobs, each PUT once into each region's bucket: two hosts, three each.
    const hosts = [...new Set(puts)];
    expect(hosts).toHaveLength(2);
    for (const host of hosts) expect(puts.filter((h) => h === host)).toHaveLength(3);

    await expectSite(first.url, 'Dropped home');
    await expectSite(`${first.url}/about/`, 'About, version one');
    const host = new URL(first.url).hostname;
    const css = await t.visit(host, '/assets/site.css');
    expect(css).toMatchObject({ status: 200, body: 'h1 { color: rebeccapurple }' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const old = await t.visit(host, '/old');
    expect(old.status).toBe(301);
    expect(old.headers.location).toBe('/about/');
    expect((await t.visit(host, '/.deploysphere/project.json')).status).toBe(404);
  });

  it('shows the deployment it made, with its URL', async () => {
    await tab
      .getByRole('status', { name: 'Deployed' })
      .getByRole('link', { name: 'Open the deployment' })
      .click();
    await tab.waitForURL(new RegExp(`/deployments/${first.id}$`));
    await tab.locator('.page-actions .status[data-status="ready"]').waitFor();
    await screenshot('drop-deployment-page');
    await tab.goBack();
    await tab.getByRole('heading', { level: 1, name: 'Deploy a folder' }).waitFor();
  });

  it('a second drop with one file changed uploads exactly one blob per region', async () => {
    const changed = html('About, version two');
    await writeFolder({ 'about/index.html': changed });
    // Back on the page the form is fresh: the slug is the folder's again, now an existing project.
    await chooseFolder();
    await tab.getByText(`${SLUG} exists: this adds a deployment to it`).waitFor();
    await tab.getByLabel('Production').check();
    const second = await deploy();

    expect(second.id).not.toBe(first.id);
    expect(second).toMatchObject({ status: 'ready', regions: ['eu-west-1', 'ap-southeast-1'] });
    const hosts = [...new Set(puts)];
    expect(hosts).toHaveLength(2);
    expect(puts).toHaveLength(2);
    // The control plane's own count: the bytes it granted, one file in each of two regions.
    expect(second.stats.uploadedBytes).toBe(2 * Buffer.byteLength(changed));
    await tab.getByText('Uploaded 1 file to eu-west-1, 1 file to ap-southeast-1.').waitFor();
    await expectSite(`${second.url}/about/`, 'About, version two');
    await screenshot('drop-second');
    // The attacks below make the console log their refusals; the drops themselves logged none.
    expect(consoleErrors).toEqual([]);
  });

  it('refuses a manifest path outside the folder with a 400 naming the field', async () => {
    const res = await pageFetch('/cli-deploys', {
      method: 'POST',
      body: {
        slug: SLUG,
        files: { '../escape.html': { hash: 'a'.repeat(64), size: 1, contentType: 'text/html' } },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { field: 'files.../escape.html' } });
  });

  it('catches different bytes PUT under a granted hash at finalize, and production stays', async () => {
    const real = 'the real bytes';
    const hash = createHash('sha256').update(real).digest('hex');
    const created = await pageFetch('/cli-deploys', {
      method: 'POST',
      body: {
        slug: SLUG,
        target: 'production',
        files: { 'index.html': { hash, size: Buffer.byteLength(real), contentType: 'text/html' } },
      },
    });
    expect(created.status).toBe(201);
    const grants = created.body as CliDeployCreated;
    const [grant] = grants.regions[0]!.missing;
    // The grant binds the PUT to the content: real S3 refuses other bytes (s3rver does not check).
    expect(grant!.put.headers['x-amz-checksum-sha256']).toBe(Buffer.from(hash, 'hex').toString('base64'));
    expect(new URL(grant!.put.url).pathname.endsWith(`/blobs/${hash}`)).toBe(true);

    // The page forges: other (longer) bytes under that hash, in every region.
    const statuses = await tab.evaluate(
      async (regions) =>
        Promise.all(
          regions.flatMap((r) =>
            r.missing.map(
              async (g) =>
                (
                  await fetch(g.put.url, {
                    method: 'PUT',
                    headers: g.put.headers,
                    body: 'forged, and longer than the real bytes',
                  })
                ).status,
            ),
          ),
        ),
      grants.regions,
    );
    expect(statuses).toEqual([200, 200]);

    const finalized = await pageFetch(`/cli-deploys/${grants.deployment.id}/finalize`, { method: 'POST' });
    expect(finalized.status).toBe(409);
    expect(finalized.body).toMatchObject({ error: { code: 'cli_deploy_blobs_missing', field: 'files' } });
    const project = await t.api<{ productionDeploymentId: string | null }>('GET', `/projects/${SLUG}`);
    expect(project.body.productionDeploymentId).not.toBe(grants.deployment.id);
    await expectSite(`${first.url}/about/`, 'About, version two');
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type {
  DeployHookResponse,
  DeployHookSecretView,
  DeployHookView,
  ProjectView,
} from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_HOOK_ADDRESS_RATE, DEPLOY_HOOK_RATE } from '../src/webhooks/deploy-hook-routes.js';
import { GitRepo } from './git-repo.js';
import { startTestPlatform, type TestPlatform } from './harness.js';

// Deploy hooks on the real local stack: a secret URL deploys its branch's head, as production
// for the production branch and as a preview on the branch alias otherwise; a wrong URL, a
// revoked one and a flood deploy nothing.

const run = promisify(execFile);
const SLUG = 'hooks';
const page = (text: string) => ({ 'site/index.html': `<!doctype html><h1>${text}</h1>` });

let t: TestPlatform;
let repo: GitRepo;

beforeAll(async () => {
  t = await startTestPlatform({ BUILD_TIMEOUT_MS: '60000' });
  repo = await GitRepo.create(page('main one'));
  const res = await t.api<ProjectView>('POST', '/projects', {
    slug: SLUG,
    repoUrl: repo.url,
    gitRef: 'main',
    installCommand: '',
    buildCommand: 'mkdir -p dist && cp -r site/. dist/',
    outputDir: 'dist',
    regions: ['us-east-1'],
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
});
afterAll(async () => {
  await t?.stop();
});

async function createHook(name: string, branch: string): Promise<DeployHookSecretView> {
  const res = await fetch(`${t.platform.controlPlaneUrl}/api/v1/projects/${SLUG}/deploy-hooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.platform.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, branch }),
  });
  expect(res.status).toBe(201);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return (await res.json()) as DeployHookSecretView;
}

async function press(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { method: 'POST', ...init });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as DeployHookResponse & { error?: { code: string } },
  };
}

async function expectServed(host: string, text: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let body = (await t.visit(host)).body;
  while (!body.includes(text) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    body = (await t.visit(host)).body;
  }
  expect(body).toContain(text);
}

async function commitOn(branch: string, text: string): Promise<string> {
  const git = (...args: string[]) => run('git', ['-C', repo.dir, ...args]);
  if (branch !== 'main') await git('checkout', '-q', '-B', branch);
  try {
    return await repo.commit(page(text), text);
  } finally {
    await git('checkout', '-q', 'main');
  }
}

describe('deploy hooks', () => {
  let main: DeployHookSecretView;

  it('a hook’s URL is shown once, and only its digest is stored', async () => {
    main = await createHook('CMS publish', 'main');
    expect(main.url).toMatch(new RegExp(`^${t.platform.controlPlaneUrl}/hooks/deploy/[A-Za-z0-9_-]{43}$`));
    const secret = main.url.split('/').pop()!;
    const list = await t.api<DeployHookView[]>('GET', `/projects/${SLUG}/deploy-hooks`);
    expect(list.body).toEqual([
      expect.objectContaining({ id: main.id, name: 'CMS publish', branch: 'main' }),
    ]);
    expect(JSON.stringify(list.body)).not.toContain(secret);
    const row = await t.db.deployHook.findUniqueOrThrow({ where: { id: main.id } });
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it('pressing it deploys the branch’s head to production, whatever the body', async () => {
    const head = await commitOn('main', 'main two');
    const res = await press(main.url, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'branch=evil&gitRef=deadbeef',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.target).toBe('production');
    const d = await t.waitFor(res.body.deploymentId, ['ready', 'error', 'cancelled']);
    expect(d).toMatchObject({
      status: 'ready',
      target: 'production',
      branch: 'main',
      commitSha: head,
      isProduction: true,
    });
    await expectServed(`${SLUG}.localhost`, 'main two');
    const list = await t.api<DeployHookView[]>('GET', `/projects/${SLUG}/deploy-hooks`);
    expect(list.body[0]!.lastTriggeredAt).not.toBeNull();
  });

  it('a hook of another branch makes a preview on its alias; production stays', async () => {
    await commitOn('feature/cms', 'cms preview');
    const hook = await createHook('Preview', 'feature/cms');
    const res = await press(hook.url);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const d = await t.waitFor(res.body.deploymentId, ['ready', 'error', 'cancelled']);
    expect(d).toMatchObject({ status: 'ready', target: 'preview', branch: 'feature/cms' });
    await expectServed(`${SLUG}-git-feature-cms.localhost`, 'cms preview');
    await expectServed(`${SLUG}.localhost`, 'main two');
  });

  it('a wrong URL deploys nothing: 404', async () => {
    const before = await t.db.deployment.count();
    const wrong = `${main.url.slice(0, -4)}AAAA`;
    const res = await press(wrong);
    expect(res.status).toBe(404);
    expect(await t.db.deployment.count()).toBe(before);
  });

  it('is rate limited: past the burst, 429 with Retry-After and no deployment', async () => {
    const hook = await createHook('Loop', 'main');
    for (let i = 0; i < DEPLOY_HOOK_RATE.burst; i++) expect((await press(hook.url)).status).toBe(202);
    const before = await t.db.deployment.count();
    const res = await press(hook.url);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await t.db.deployment.count()).toBe(before);
  });

  it('revoking a hook stops its URL at once', async () => {
    expect((await t.api('DELETE', `/projects/${SLUG}/deploy-hooks/${main.id}`)).status).toBe(204);
    const before = await t.db.deployment.count();
    expect((await press(main.url)).status).toBe(404);
    expect(await t.db.deployment.count()).toBe(before);
    expect((await t.api('DELETE', `/projects/${SLUG}/deploy-hooks/${main.id}`)).status).toBe(404);
  });

  it('refuses bad input naming the field', async () => {
    const res = await t.api<{ error: { field: string } }>('POST', `/projects/${SLUG}/deploy-hooks`, {
      name: 'x',
      branch: '--upload-pack=evil',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('branch');
    const noName = await t.api<{ error: { field: string } }>('POST', `/projects/${SLUG}/deploy-hooks`, {
      branch: 'main',
    });
    expect(noName.body.error.field).toBe('name');
  });

  it('guessing URLs runs into the per-address limit (last: it spends this address’s budget)', async () => {
    const before = await t.db.deployment.count();
    const statuses: number[] = [];
    for (let i = 0; i < DEPLOY_HOOK_ADDRESS_RATE.burst + 5; i++) {
      const guess = `${t.platform.controlPlaneUrl}/hooks/deploy/${String(i).padStart(43, 'x')}`;
      statuses.push((await press(guess)).status);
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s !== 404 && s !== 429)).toEqual([]);
    expect(await t.db.deployment.count()).toBe(before);
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type {
  DeploymentView,
  HookResponse,
  ProjectView,
  WebhookDeliveryView,
  WebhookSecretView,
} from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryHeaders, PUSH_PAYLOAD, type Provider, type PushInfo } from './git-hooks.js';
import { GitRepo } from './git-repo.js';
import { startTestPlatform, type TestPlatform } from './harness.js';

// Git-driven deploys end to end on the real local stack: deliveries signed as GitHub, GitLab and
// Gitea sign them reach the hook URLs, become production deployments and branch previews built
// by the sandboxed worker from the pushed commit, and the edge serves them at their hosts.

const run = promisify(execFile);
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Ada Lovelace',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada Lovelace',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
};

const SLUG = 'hooked';
const page = (text: string) => ({ 'site/index.html': `<!doctype html><h1>${text}</h1>` });

let t: TestPlatform;
let repo: GitRepo;
const secrets: Partial<Record<Provider, WebhookSecretView>> = {};

beforeAll(async () => {
  t = await startTestPlatform({ BUILD_TIMEOUT_MS: '60000' });
  repo = await GitRepo.create(page('main one'));
  const res = await t.api<ProjectView>('POST', '/projects', {
    slug: SLUG,
    repoUrl: repo.url,
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

/** Commits on `branch` (created from main when new) and leaves main checked out; returns the sha. */
async function commitOn(branch: string, files: Record<string, string>, message: string): Promise<string> {
  const git = (...args: string[]) => run('git', ['-C', repo.dir, ...args], { env: GIT_ENV });
  if (branch !== 'main') {
    const exists = await git('rev-parse', '--verify', '--quiet', `refs/heads/${branch}`).then(
      () => true,
      () => false,
    );
    await git('checkout', '-q', ...(exists ? [branch] : ['-b', branch]));
  }
  try {
    return await repo.commit(files, message);
  } finally {
    await git('checkout', '-q', 'main');
  }
}

async function connect(provider: Provider): Promise<WebhookSecretView> {
  const res = await t.api<WebhookSecretView>('POST', `/projects/${SLUG}/webhook`, { provider });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  secrets[provider] = res.body;
  return res.body;
}

async function deliver(
  provider: Provider,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: HookResponse & { error?: { code: string; field?: string } } }> {
  const res = await fetch(secrets[provider]!.url, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as HookResponse & { error?: { code: string } } };
}

/** A push of `info` delivered as `provider` sends it, signed with the hook's secret. */
async function push(provider: Provider, info: Omit<PushInfo, 'repoUrl'> & { repoUrl?: string }) {
  const body = JSON.stringify(PUSH_PAYLOAD[provider]({ repoUrl: repo.url, ...info }));
  return deliver(provider, body, deliveryHeaders(provider, secrets[provider]!.secret, body));
}

const deploymentCount = () => t.db.deployment.count();

async function served(host: string): Promise<string> {
  const res = await t.visit(host);
  return res.body;
}

/**
 * Waits until `host` serves `text`. The edge keeps a route record for a few seconds
 * (ROUTE_CACHE_TTL_MS), so a host visited just before its switch serves the old deployment
 * until then.
 */
async function expectServed(host: string, text: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let body = await served(host);
  while (!body.includes(text) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    body = await served(host);
  }
  expect(body).toContain(text);
}

describe('connecting a repository', () => {
  it('answers the hook URL and a secret shown once; the list never shows the secret', async () => {
    const hook = await connect('github');
    expect(hook.url).toMatch(new RegExp(`^${t.platform.controlPlaneUrl}/hooks/git/[a-z0-9]{24}$`));
    expect(hook.secret).toMatch(/^[0-9a-f]{64}$/);
    const list = await t.api<unknown[]>('GET', `/projects/${SLUG}/webhooks`);
    expect(list.body).toEqual([expect.objectContaining({ provider: 'github', url: hook.url })]);
    expect(JSON.stringify(list.body)).not.toContain(hook.secret);
    const stored = await t.db.gitWebhook.findFirstOrThrow({ where: { provider: 'github' } });
    expect(stored.secretCiphertext).not.toContain(hook.secret);
  });

  it('refuses an unknown provider, naming the field', async () => {
    const res = await t.api<{ error: { field: string } }>('POST', `/projects/${SLUG}/webhook`, {
      provider: 'bitbucket',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('provider');
  });
});

describe('pushes', () => {
  let production: DeploymentView;

  it('a GitHub push to main deploys exactly the pushed commit to production', async () => {
    const pushed = await commitOn('main', page('main two'), 'Say two\n\nThe body of the message.');
    // The branch moves on before the build clones: the build must still take the pushed commit.
    await commitOn('main', page('main three (not pushed)'), 'Say three');
    const res = await push('github', { branch: 'main', after: pushed, message: 'Say two' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ outcome: 'deployed', deploymentId: expect.any(String) });

    production = await t.waitFor(res.body.deploymentId!, ['ready', 'error', 'cancelled']);
    expect(production).toMatchObject({
      status: 'ready',
      target: 'production',
      branch: 'main',
      commitSha: pushed,
      commitMessage: 'Say two',
      commitAuthor: 'Ada Lovelace <ada@example.com>',
      isProduction: true,
      branchUrl: null,
    });
    await expectServed(`${SLUG}.localhost`, 'main two');
  });

  it('a push to feature/login makes a preview at its branch alias; production still serves main', async () => {
    const pushed = await commitOn('feature/login', page('login preview'), 'Add the login page');
    const res = await push('github', {
      branch: 'feature/login',
      after: pushed,
      message: 'Add the login page',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const preview = await t.waitFor(res.body.deploymentId!, ['ready', 'error', 'cancelled']);
    expect(preview).toMatchObject({
      status: 'ready',
      target: 'preview',
      branch: 'feature/login',
      commitSha: pushed,
      isProduction: false,
      branchUrl: expect.stringMatching(/^http:\/\/hooked-git-feature-login\.localhost:\d+$/),
    });
    await expectServed(`${SLUG}-git-feature-login.localhost`, 'login preview');
    await expectServed(new URL(preview.deploymentUrl).hostname, 'login preview');
    await expectServed(`${SLUG}.localhost`, 'main two');
    const project = await t.api<ProjectView>('GET', `/projects/${SLUG}`);
    expect(project.body.productionDeploymentId).toBe(production.id);
  });

  it('GitLab and Gitea pushes deploy too; the alias follows the branch’s newest preview', async () => {
    await connect('gitlab');
    await connect('gitea');
    // main has moved on to "main three" since; GitLab pushes it.
    const mainHead = (await run('git', ['-C', repo.dir, 'rev-parse', 'main'])).stdout.trim();
    const fromGitLab = await push('gitlab', { branch: 'main', after: mainHead, message: 'Say three' });
    expect(fromGitLab.status, JSON.stringify(fromGitLab.body)).toBe(202);
    const gitlab = await t.waitFor(fromGitLab.body.deploymentId!, ['ready', 'error', 'cancelled']);
    expect(gitlab).toMatchObject({ status: 'ready', target: 'production', commitSha: mainHead });
    await expectServed(`${SLUG}.localhost`, 'main three');

    const pushed = await commitOn('feature/login', page('login preview two'), 'Polish the login page');
    const fromGitea = await push('gitea', { branch: 'feature/login', after: pushed });
    expect(fromGitea.status, JSON.stringify(fromGitea.body)).toBe(202);
    const gitea = await t.waitFor(fromGitea.body.deploymentId!, ['ready', 'error', 'cancelled']);
    expect(gitea).toMatchObject({ status: 'ready', target: 'preview', commitSha: pushed });
    await expectServed(`${SLUG}-git-feature-login.localhost`, 'login preview two');
    await expectServed(`${SLUG}.localhost`, 'main three');
  });

  it('filters the history by production or preview, and by branch', async () => {
    const previews = await t.api<DeploymentView[]>('GET', `/projects/${SLUG}/deployments?target=preview`);
    expect(previews.body.map((d) => d.branch)).toEqual(['feature/login', 'feature/login']);
    const prod = await t.api<DeploymentView[]>('GET', `/projects/${SLUG}/deployments?target=production`);
    expect(prod.body.every((d) => d.target === 'production')).toBe(true);
    expect(prod.body).toHaveLength(2);
    const main = await t.api<DeploymentView[]>('GET', `/projects/${SLUG}/deployments?branch=main`);
    expect(main.body).toHaveLength(2);
  });
});

describe('deliveries that deploy nothing', () => {
  const someSha = 'c'.repeat(40);

  it('a bad signature is refused with 401, recorded nowhere but the rejected counter', async () => {
    const before = await deploymentCount();
    const deliveries = await t.db.webhookDelivery.count();
    const body = JSON.stringify(PUSH_PAYLOAD.github({ repoUrl: repo.url, branch: 'main', after: someSha }));
    const forged = deliveryHeaders('github', 'not-the-secret', body);
    const res = await deliver('github', body, forged);
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'bad_signature', field: 'headers.x-hub-signature-256' });

    // Signed right, then tampered with: the branch changed after signing.
    const signed = deliveryHeaders('gitea', secrets.gitea!.secret, body);
    const tampered = await deliver('gitea', body.replace('"main"', '"evil"'), signed);
    expect(tampered.status).toBe(401);

    expect(await deploymentCount()).toBe(before);
    expect(await t.db.webhookDelivery.count()).toBe(deliveries);
    const metrics = await (await fetch(`${t.platform.controlPlaneUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /^deploysphere_webhook_deliveries_rejected_total\{provider="github",reason="bad_signature"\} [1-9]/m,
    );
  });

  it('a missing signature is refused with 401', async () => {
    const before = await deploymentCount();
    const body = JSON.stringify(PUSH_PAYLOAD.gitlab({ repoUrl: repo.url, branch: 'main', after: someSha }));
    const { 'x-gitlab-token': _, ...unsigned } = deliveryHeaders('gitlab', secrets.gitlab!.secret, body);
    const res = await deliver('gitlab', body, unsigned);
    expect(res.status).toBe(401);
    expect(res.body.error?.field).toBe('headers.x-gitlab-token');
    expect(await deploymentCount()).toBe(before);
  });

  it('a replayed delivery id is answered as a duplicate and starts nothing', async () => {
    const first = await t.db.webhookDelivery.findFirstOrThrow({
      where: { provider: 'github', outcome: 'deployed' },
      orderBy: { receivedAt: 'asc' },
    });
    const before = await deploymentCount();
    const body = JSON.stringify(
      PUSH_PAYLOAD.github({ repoUrl: repo.url, branch: 'main', after: 'd'.repeat(40) }),
    );
    const res = await deliver(
      'github',
      body,
      deliveryHeaders('github', secrets.github!.secret, body, { deliveryId: first.deliveryId }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'duplicate', deliveryId: first.deliveryId });
    expect(await deploymentCount()).toBe(before);
  });

  it('a push from another repository is ignored as "unknown repository", and recorded', async () => {
    const before = await deploymentCount();
    const res = await push('github', {
      repoUrl: 'https://github.example/someone-else/site.git',
      branch: 'main',
      after: someSha,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringContaining('unknown repository'),
    });
    expect(await deploymentCount()).toBe(before);
  });

  it('an event that is not a push (and the ping) is ignored, and recorded', async () => {
    const before = await deploymentCount();
    for (const event of ['ping', 'issues']) {
      const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
      const res = await deliver(
        'github',
        body,
        deliveryHeaders('github', secrets.github!.secret, body, { event }),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining(`"${event}"`) });
    }
    const tagBody = JSON.stringify({
      ...PUSH_PAYLOAD.github({ repoUrl: repo.url, branch: 'main', after: someSha }),
      ref: 'refs/tags/v1.0.0',
    });
    const tag = await deliver('github', tagBody, deliveryHeaders('github', secrets.github!.secret, tagBody));
    expect(tag.body).toMatchObject({ outcome: 'ignored', reason: 'refs/tags/v1.0.0 is not a branch' });
    expect(await deploymentCount()).toBe(before);
  });

  it('lists every accepted delivery with its outcome, newest first', async () => {
    const res = await t.api<WebhookDeliveryView[]>('GET', `/projects/${SLUG}/deliveries?limit=50`);
    expect(res.status).toBe(200);
    const reasons = res.body.map((d) => `${d.provider} ${d.outcome} ${d.reason ?? ''}`);
    expect(reasons.filter((r) => r.includes(' deployed '))).toHaveLength(4);
    expect(reasons.some((r) => r.includes('unknown repository'))).toBe(true);
    expect(reasons.some((r) => r.includes('"issues" is not handled'))).toBe(true);
    expect(res.body.every((d) => d.outcome !== 'received')).toBe(true);
  });

  it('rotating the secret invalidates the old one; the URL stays', async () => {
    const old = secrets.github!;
    const rotated = await connect('github');
    expect(rotated.url).toBe(old.url);
    expect(rotated.secret).not.toBe(old.secret);
    const body = JSON.stringify({ zen: 'hi' });
    const stale = await deliver(
      'github',
      body,
      deliveryHeaders('github', old.secret, body, { event: 'ping' }),
    );
    expect(stale.status).toBe(401);
    const fresh = await deliver(
      'github',
      body,
      deliveryHeaders('github', rotated.secret, body, { event: 'ping' }),
    );
    expect(fresh.status).toBe(200);
  });
});

describe('deleting the project', () => {
  it('removes its branch aliases too', async () => {
    expect((await t.visit(`${SLUG}-git-feature-login.localhost`)).status).toBe(200);
    expect((await t.api('DELETE', `/projects/${SLUG}`)).status).toBe(204);
    // The edge keeps a route record for a few seconds (ROUTE_CACHE_TTL_MS): wait for it to lapse.
    const deadline = Date.now() + 30_000;
    let status = 200;
    while (status !== 404 && Date.now() < deadline) {
      status = (await t.visit(`${SLUG}-git-feature-login.localhost`)).status;
      if (status !== 404) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(404);
    expect(await t.db.branchAlias.count()).toBe(0);
  });
});

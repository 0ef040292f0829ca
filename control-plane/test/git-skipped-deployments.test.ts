import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  manifestKey,
  type DeploymentView,
  type HookResponse,
  type ProjectView,
  type WebhookDeliveryView,
  type WebhookSecretView,
} from '@deploysphere/contracts';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryHeaders, PUSH_PAYLOAD } from './git-hooks.js';
import { GitRepo } from './git-repo.js';
import { startTestPlatform, type TestPlatform } from './harness.js';

// Skipped deployments on the real local stack (docs/git-deploys.md, "Skipping a deployment"): a
// push outside the watch paths and a [skip ci] push each record a `skipped` deployment with its
// reason and build nothing; the project's ignored build step runs in the build sandbox after the
// clone, and exit 0 ends the deployment `skipped` (nothing uploaded, production unchanged), exit
// 1 builds, any other code fails the deployment with a message that says why.

const run = promisify(execFile);
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Ada Lovelace',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada Lovelace',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
};
const SLUG = 'skips';
const page = (text: string) => ({ 'site/index.html': `<!doctype html><h1>${text}</h1>` });

let t: TestPlatform;
let repo: GitRepo;
let hook: WebhookSecretView;
let productionId: string;
/** The skipped deployments the pushes made; checked again after later builds ran. */
const skippedIds: string[] = [];

type Answer = { status: number; body: HookResponse };

async function deliver(payload: unknown, deliveryId?: string): Promise<Answer> {
  const body = JSON.stringify(payload);
  const res = await fetch(hook.url, {
    method: 'POST',
    headers: deliveryHeaders('github', hook.secret, body, {
      event: 'push',
      ...(deliveryId ? { deliveryId } : {}),
    }),
    body,
  });
  return { status: res.status, body: (await res.json()) as HookResponse };
}

async function head(branch = 'main'): Promise<string> {
  return (await run('git', ['-C', repo.dir, 'rev-parse', branch])).stdout.trim();
}

async function commitOn(branch: string, files: Record<string, string>, message: string): Promise<string> {
  const git = (...args: string[]) => run('git', ['-C', repo.dir, ...args], { env: GIT_ENV });
  const exists = await git('rev-parse', '--verify', '--quiet', `refs/heads/${branch}`).then(
    () => true,
    () => false,
  );
  await git('checkout', '-q', ...(exists ? [branch] : ['-b', branch]));
  try {
    return await repo.commit(files, message);
  } finally {
    await git('checkout', '-q', 'main');
  }
}

/** A GitHub push of `after` on `branch` after `before`, whose one commit changed `files`. */
function pushPayload(p: { branch: string; after: string; before: string; files: string[]; message: string }) {
  const payload = PUSH_PAYLOAD.github({ repoUrl: repo.url, ...p });
  (payload.head_commit as { modified: string[] }).modified = p.files;
  return payload;
}

async function deployment(id: string): Promise<DeploymentView> {
  const res = await t.api<DeploymentView>('GET', `/deployments/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function logText(id: string): Promise<string> {
  const res = await t.api<unknown>('GET', `/deployments/${id}/logs?limit=1000`);
  expect(res.status).toBe(200);
  return JSON.stringify(res.body);
}

/**
 * The build's log once it holds `line`: log lines travel on their own stream, so the last ones may
 * land a moment after the status they led to. Fails with the log as it is at the deadline.
 */
async function logWith(id: string, line: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await logText(id);
    if (text.includes(line) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Production is still the first deployment, and the edge still serves it. */
async function expectProductionUnchanged(): Promise<void> {
  const project = await t.api<ProjectView>('GET', `/projects/${SLUG}`);
  expect(project.body.productionDeploymentId).toBe(productionId);
  const served = await t.visit(`${SLUG}.localhost`);
  expect(served.body).toContain('main one');
}

/** Whether the deployment's manifest exists in the project's region (a skipped one never uploads). */
async function manifestExists(id: string): Promise<boolean> {
  const target = t.platform.config.storage.find((s) => s.region === 'us-east-1')!;
  const s3 = createS3Client(target);
  try {
    await s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: manifestKey(id) }));
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return false;
    throw err;
  } finally {
    s3.destroy();
  }
}

beforeAll(async () => {
  t = await startTestPlatform({ BUILD_TIMEOUT_MS: '60000' });
  repo = await GitRepo.create({ ...page('main one'), 'docs/readme.md': 'docs' });
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
  expect(res.body.ignoreCommand).toBeNull();
  const connected = await t.api<WebhookSecretView>('POST', `/projects/${SLUG}/webhook`, {
    provider: 'github',
  });
  expect(connected.status).toBe(201);
  hook = connected.body;
  const first = await t.api<DeploymentView>('POST', `/projects/${SLUG}/deployments`, {});
  expect(first.status, JSON.stringify(first.body)).toBe(202);
  const ready = await t.waitFor(first.body.id, ['ready', 'error', 'cancelled', 'skipped']);
  expect(ready.status, ready.error ?? '').toBe('ready');
  productionId = ready.id;
});
afterAll(async () => {
  await t?.stop();
});

describe('pushes that build nothing are recorded as skipped deployments', () => {
  it('a push outside the watch paths: a skipped production deployment with the reason, never built', async () => {
    const set = await t.api('PUT', `/projects/${SLUG}/watch-paths`, { paths: ['site/**'] });
    expect(set.status).toBe(200);
    const base = await head();
    const sha = await commitOn('main', { 'docs/readme.md': 'more docs' }, 'Docs only');
    const deliveryId = `watch-${sha}`;
    const res = await deliver(
      pushPayload({
        branch: 'main',
        after: sha,
        before: base,
        files: ['docs/readme.md'],
        message: 'Docs only',
      }),
      deliveryId,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      outcome: 'skipped',
      reason: 'skipped: none of the 1 changed file matches the watch paths',
      deploymentId: expect.any(String),
    });
    const id = res.body.deploymentId!;
    skippedIds.push(id);
    const d = await deployment(id);
    expect(d).toMatchObject({
      status: 'skipped',
      skipReason: 'none of the 1 changed file matches the watch paths',
      target: 'production',
      branch: 'main',
      commitSha: sha,
      commitMessage: 'Docs only',
      phase: null,
      startedAt: null,
      runner: null,
      isProduction: false,
    });
    expect(d.finishedAt).not.toBeNull();

    // In the history, and in the delivery log with its deployment.
    const history = await t.api<DeploymentView[]>('GET', `/projects/${SLUG}/deployments?branch=main`);
    expect(history.body.map((h) => [h.id, h.status])).toContainEqual([id, 'skipped']);
    const deliveries = await t.api<WebhookDeliveryView[]>('GET', `/projects/${SLUG}/deliveries`);
    expect(deliveries.body.find((x) => x.deliveryId === deliveryId)).toMatchObject({
      outcome: 'skipped',
      deploymentId: id,
    });

    // The same push delivered again under a new id finds the skipped deployment, writes no other.
    const again = await deliver(
      pushPayload({
        branch: 'main',
        after: sha,
        before: base,
        files: ['docs/readme.md'],
        message: 'Docs only',
      }),
    );
    expect(again.body).toMatchObject({ outcome: 'skipped', deploymentId: id });
    expect(await t.db.deployment.count({ where: { commitSha: sha } })).toBe(1);

    await expectProductionUnchanged();
    expect(await manifestExists(id)).toBe(false);
    const cleared = await t.api('PUT', `/projects/${SLUG}/watch-paths`, { paths: [] });
    expect(cleared.status).toBe(200);
  });

  it('a [skip ci] push to a branch: a skipped preview, no alias, nothing served', async () => {
    const sha = await commitOn('feature/skip', page('never built'), 'WIP [skip ci]');
    const res = await deliver(
      pushPayload({
        branch: 'feature/skip',
        after: sha,
        before: await head(),
        files: ['site/index.html'],
        message: 'WIP [skip ci]',
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      outcome: 'skipped',
      reason: 'skipped: the commit message says [skip ci]',
    });
    skippedIds.push(res.body.deploymentId!);
    const d = await deployment(res.body.deploymentId!);
    expect(d).toMatchObject({
      status: 'skipped',
      skipReason: 'the commit message says [skip ci]',
      target: 'preview',
      branch: 'feature/skip',
      commitSha: sha,
      startedAt: null,
      branchUrl: null,
    });
    expect(
      await t.db.branchAlias.findUnique({
        where: {
          projectId_branch: {
            projectId: (await t.db.project.findUniqueOrThrow({ where: { slug: SLUG } })).id,
            branch: 'feature/skip',
          },
        },
      }),
    ).toBeNull();
    expect((await t.visit(`${SLUG}-git-feature-skip.localhost`)).status).toBe(404);
    await expectProductionUnchanged();
  });
});

describe('the ignored build step', () => {
  // Exit 0 (skip) when the head commit's subject says [nobuild], else 1 (build). It prints the
  // variables the step is given, and the whole environment, to show what it sees.
  const SKIP_WHEN_NOBUILD =
    'echo "step: branch=$DEPLOYSPHERE_GIT_BRANCH sha=$DEPLOYSPHERE_GIT_COMMIT_SHA"; env | sort; if git log -1 --format=%s | grep -q "\\[nobuild\\]"; then exit 0; else exit 1; fi';

  it('is a project setting, checked like the other commands', async () => {
    const bad = await t.api<{ error: { field: string } }>('PATCH', `/projects/${SLUG}`, {
      ignoreCommand: 'exit 0\nrm -rf /',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('ignoreCommand');
    const none = await t.api<ProjectView>('PATCH', `/projects/${SLUG}`, { ignoreCommand: '  ' });
    expect(none.body.ignoreCommand).toBeNull();
    const set = await t.api<ProjectView>('PATCH', `/projects/${SLUG}`, { ignoreCommand: SKIP_WHEN_NOBUILD });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.ignoreCommand).toBe(SKIP_WHEN_NOBUILD);
  });

  it('exit 0 skips: the deployment ends skipped, nothing is uploaded, production stays', async () => {
    const sha = await commitOn('main', page('main skipped'), 'Tweak the page [nobuild]');
    const res = await deliver(
      pushPayload({
        branch: 'main',
        after: sha,
        before: await head(),
        files: ['site/index.html'],
        message: 'Tweak the page [nobuild]',
      }),
    );
    // The marker is not a skip marker: the push queues a build, and the step decides.
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const d = await t.waitFor(res.body.deploymentId!, ['ready', 'error', 'cancelled', 'skipped']);
    const logs = await logWith(d.id, 'the build is skipped');
    expect(d.status, `${d.error ?? ''}\n${logs}`).toBe('skipped');
    expect(d.skipReason).toContain('exited 0');
    expect(d.error).toBeNull();
    expect(d.startedAt).not.toBeNull();
    expect(d.stats.files).toBe(0);
    expect(logs).toContain(`step: branch=main sha=${sha}`);
    expect(logs).toContain('the build is skipped');
    expect(logs).not.toContain('--- install ---');
    // The step runs in the sandbox: none of the platform's own environment is there.
    expect(logs).not.toContain(t.platform.adminToken);
    expect(logs).not.toContain('DATABASE_URL');
    expect(logs).not.toContain('NATS_URL');
    expect(await manifestExists(d.id)).toBe(false);
    await expectProductionUnchanged();
    expect((await t.visit(`${SLUG}.localhost`)).body).not.toContain('main skipped');
  });

  it('exit 1 builds as usual', async () => {
    const sha = await commitOn('main', page('main two'), 'The page, two');
    const res = await deliver(
      pushPayload({
        branch: 'main',
        after: sha,
        before: await head(),
        files: ['site/index.html'],
        message: 'The page, two',
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const d = await t.waitFor(res.body.deploymentId!, ['ready', 'error', 'cancelled', 'skipped']);
    const logs = await logWith(d.id, 'exit 1, so the build goes ahead');
    expect(d.status, `${d.error ?? ''}\n${logs}`).toBe('ready');
    expect(logs).toContain('exit 1, so the build goes ahead');
    expect(await manifestExists(d.id)).toBe(true);
    productionId = d.id;
    expect((await t.api<ProjectView>('GET', `/projects/${SLUG}`)).body.productionDeploymentId).toBe(d.id);
    // The edge caches routes for a moment: wait for the switch to show there.
    const deadline = Date.now() + 30_000;
    let served = await t.visit(`${SLUG}.localhost`);
    while (!served.body.includes('main two') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      served = await t.visit(`${SLUG}.localhost`);
    }
    expect(served.body).toContain('main two');
  });

  it('any other exit code fails the deployment, saying why', async () => {
    const set = await t.api<ProjectView>('PATCH', `/projects/${SLUG}`, {
      ignoreCommand: 'echo checking; exit 3',
    });
    expect(set.status).toBe(200);
    const d0 = await t.api<DeploymentView>('POST', `/projects/${SLUG}/deployments`, {});
    expect(d0.status).toBe(202);
    const d = await t.waitFor(d0.body.id, ['ready', 'error', 'cancelled', 'skipped']);
    expect(d.status).toBe('error');
    expect(d.error).toContain('The ignored build step "echo checking; exit 3" exited with code 3');
    expect(d.error).toContain('must exit 0 to skip the build or 1 to build it');
    expect(d.skipReason).toBeNull();
    expect(await manifestExists(d.id)).toBe(false);
    const project = await t.api<ProjectView>('GET', `/projects/${SLUG}`);
    expect(project.body.productionDeploymentId).toBe(productionId);
  });

  it('left the pushes’ skipped deployments unbuilt while later builds of the project ran', async () => {
    expect(skippedIds).toHaveLength(2);
    for (const id of skippedIds) {
      expect(await deployment(id)).toMatchObject({ status: 'skipped', startedAt: null, runner: null });
      expect(await manifestExists(id)).toBe(false);
    }
  });
});

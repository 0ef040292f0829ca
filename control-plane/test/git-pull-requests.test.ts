import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type {
  DeploymentView,
  HookResponse,
  ProjectView,
  WebhookSecretView,
  WebhookView,
} from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deliveryHeaders,
  giteaPullRequest,
  githubPullRequest,
  gitlabMergeRequest,
  PUSH_PAYLOAD,
  type Provider,
  type PullRequestInfo,
  type PushInfo,
} from './git-hooks.js';
import { startProviderStub, type ProviderStub, type StubProvider } from './git-provider-stub.js';
import { GitRepo } from './git-repo.js';
import { startTestPlatform, type TestPlatform } from './harness.js';

// Pull requests end to end on the real local stack, with GitHub's, GitLab's and Gitea's REST
// APIs stood in for at their HTTP boundary: a pull request's head is built as a preview on its
// branch's alias, the provider hears of it as commit statuses and one comment edited in place,
// closing it takes the alias down, and a fork's pull request builds nothing and touches nothing.

const run = promisify(execFile);
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Ada Lovelace',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada Lovelace',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
};

const SLUG = 'prs';
const TOKENS: Record<StubProvider, string> = {
  github: 'ghp_TESTTOKENgithub000000000000000000000',
  gitlab: 'glpat-TESTTOKENgitlab00000000',
  gitea: 'TESTTOKENgitea0000000000000000000000000',
};
const page = (text: string) => ({ 'site/index.html': `<!doctype html><h1>${text}</h1>` });

let t: TestPlatform;
let repo: GitRepo;
const hooks: Partial<Record<Provider, WebhookSecretView>> = {};
const stubs: Partial<Record<StubProvider, ProviderStub>> = {};

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
  for (const provider of ['github', 'gitlab', 'gitea'] as const) {
    const hook = await t.api<WebhookSecretView>('POST', `/projects/${SLUG}/webhook`, { provider });
    expect(hook.status).toBe(201);
    hooks[provider] = hook.body;
    stubs[provider] = await startProviderStub(provider, TOKENS[provider]);
  }
});
afterAll(async () => {
  await t?.stop();
  for (const stub of Object.values(stubs)) await stub.stop();
});

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

type Answer = { status: number; body: HookResponse & { error?: { code: string; field?: string } } };

async function deliver(provider: Provider, payload: unknown, event: string): Promise<Answer> {
  const body = JSON.stringify(payload);
  const res = await fetch(hooks[provider]!.url, {
    method: 'POST',
    headers: deliveryHeaders(provider, hooks[provider]!.secret, body, { event }),
    body,
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

const PR_EVENT: Record<StubProvider, string> = {
  github: 'pull_request',
  gitlab: 'Merge Request Hook',
  gitea: 'pull_request',
};
const PR_PAYLOAD = { github: githubPullRequest, gitlab: gitlabMergeRequest, gitea: giteaPullRequest };

const pullRequest = (provider: StubProvider, info: Omit<PullRequestInfo, 'repoUrl'>) =>
  deliver(provider, PR_PAYLOAD[provider]({ repoUrl: repo.url, ...info }), PR_EVENT[provider]);

const push = (provider: Provider, info: Omit<PushInfo, 'repoUrl'>) =>
  deliver(
    provider,
    PUSH_PAYLOAD[provider]({ repoUrl: repo.url, ...info }),
    provider === 'gitlab' ? 'Push Hook' : 'push',
  );

/** Waits until `check` passes, retrying on failure until the deadline; then fails with its error. */
async function eventually(check: () => void | Promise<void>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function expectServed(host: string, text: string): Promise<void> {
  await eventually(async () => expect((await t.visit(host)).body).toContain(text));
}

async function expectGone(host: string): Promise<void> {
  await eventually(async () => expect((await t.visit(host)).status).toBe(404));
}

/**
 * The states posted for a commit, in order. The first report is made when the delivery queues
 * the deployment; if the build has started by then, it reports "running" straight away, so the
 * earlier states may be skipped but never reordered.
 */
function expectStates(posted: string[], order: string[]): void {
  expect(posted.at(-1)).toBe(order.at(-1));
  const ranks = posted.map((s) => order.indexOf(s));
  expect(ranks.every((r, i) => r >= 0 && (i === 0 || r >= ranks[i - 1]!))).toBe(true);
}

const statesOf = (stub: ProviderStub, sha: string) =>
  statusesOf(stub, sha).map((r) => (r.body as { state: string }).state);

const statusesOf = (stub: ProviderStub, sha: string) =>
  stub.requests.filter((r) => r.method === 'POST' && r.url.includes(`/statuses/${sha}`) && r.status === 201);

async function setToken(provider: StubProvider): Promise<void> {
  const res = await t.api('PUT', `/projects/${SLUG}/webhooks/${provider}/token`, {
    token: TOKENS[provider],
    apiUrl: stubs[provider]!.apiUrl,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(204);
}

describe('provider API tokens', () => {
  it('are stored encrypted and never shown; bad input is a 400 naming the field', async () => {
    await setToken('github');
    const stored = await t.db.gitWebhook.findFirstOrThrow({ where: { provider: 'github' } });
    expect(stored.apiTokenCiphertext).toBeTruthy();
    expect(stored.apiTokenCiphertext).not.toContain(TOKENS.github);
    const list = await t.api<WebhookView[]>('GET', `/projects/${SLUG}/webhooks`);
    expect(JSON.stringify(list.body)).not.toContain(TOKENS.github);
    expect(list.body.find((h) => h.provider === 'github')).toMatchObject({ reportsStatus: true });

    const noUrl = await t.api<{ error: { field: string } }>('PUT', `/projects/${SLUG}/webhooks/gitea/token`, {
      token: 'x',
    });
    expect(noUrl.status).toBe(400);
    expect(noUrl.body.error.field).toBe('apiUrl');
    const withCreds = await t.api<{ error: { field: string } }>(
      'PUT',
      `/projects/${SLUG}/webhooks/gitea/token`,
      { token: 'x', apiUrl: 'https://user:pw@gitea.example/api/v1' },
    );
    expect(withCreds.status).toBe(400);
    expect(withCreds.body.error.field).toBe('apiUrl');
    // The generic form has no API to report to: like any path parameter that cannot exist, a 404.
    const generic = await t.api<{ error: { field: string } }>(
      'PUT',
      `/projects/${SLUG}/webhooks/generic/token`,
      {
        token: 'x',
      },
    );
    expect(generic.status).toBe(404);
    expect(generic.body.error.field).toBe('provider');
    const empty = await t.api<{ error: { field: string } }>(
      'PUT',
      `/projects/${SLUG}/webhooks/github/token`,
      {
        token: 'has a space',
      },
    );
    expect(empty.status).toBe(400);
    expect(empty.body.error.field).toBe('token');
  });
});

describe('a GitHub pull request', () => {
  let first: DeploymentView;
  let headSha: string;

  it('opened: its head is built as a preview on the branch alias; production is untouched', async () => {
    const main = (await run('git', ['-C', repo.dir, 'rev-parse', 'main'])).stdout.trim();
    const prod = await push('github', { branch: 'main', after: main });
    expect(prod.status, JSON.stringify(prod.body)).toBe(202);
    await t.waitFor(prod.body.deploymentId!, ['ready', 'error', 'cancelled']);

    headSha = await commitOn('feature/pr', page('pr one'), 'Start the feature');
    const res = await pullRequest('github', {
      number: 7,
      action: 'opened',
      headBranch: 'feature/pr',
      headSha,
      title: 'Add the feature',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    first = await t.waitFor(res.body.deploymentId!, ['ready', 'error', 'cancelled']);
    expect(first).toMatchObject({
      status: 'ready',
      target: 'preview',
      branch: 'feature/pr',
      commitSha: headSha,
      isProduction: false,
    });
    expect(first.pullRequest).toBe(7);
    await expectServed(`${SLUG}-git-feature-pr.localhost`, 'pr one');
    await expectServed(`${SLUG}.localhost`, 'main one');
  });

  it('reports pending, running and success with the deployment URL, and comments the preview URL', async () => {
    const stub = stubs.github!;
    // GitHub has no "running": a build in progress is still pending.
    await eventually(() => expectStates(statesOf(stub, headSha), ['pending', 'success']));
    const success = statusesOf(stub, headSha).at(-1)!;
    expect(success.url).toBe(`/repos/acme/site/statuses/${headSha}`);
    expect(success.body).toMatchObject({ target_url: first.deploymentUrl, context: `deploysphere/${SLUG}` });
    await eventually(() => expect(stub.comments.size).toBe(1));
    const [comment] = [...stub.comments.values()];
    expect(comment!.pullRequest).toBe('7');
    expect(comment!.body).toContain(`Preview: ${first.branchUrl}`);
    expect(comment!.body).toContain(first.deploymentUrl);
    // The token travelled in its header only: never in a URL or a body.
    for (const r of stub.requests) {
      expect(r.headers.authorization).toBe(`Bearer ${TOKENS.github}`);
      expect(r.url).not.toContain(TOKENS.github);
      expect(JSON.stringify(r.body)).not.toContain(TOKENS.github);
    }
  });

  it('synchronize: the new head is built, and the same comment is edited in place', async () => {
    const stub = stubs.github!;
    headSha = await commitOn('feature/pr', page('pr two'), 'Finish the feature');
    const res = await pullRequest('github', {
      number: 7,
      action: 'synchronize',
      headBranch: 'feature/pr',
      headSha,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const second = await t.waitFor(res.body.deploymentId!, ['ready', 'error', 'cancelled']);
    expect(second.status).toBe('ready');
    await expectServed(`${SLUG}-git-feature-pr.localhost`, 'pr two');
    await eventually(() => expect([...stub.comments.values()][0]!.body).toContain(headSha.slice(0, 12)));
    expect(stub.comments.size).toBe(1);
    const edits = stub.requests.filter((r) => r.method === 'PATCH' && r.url.includes('/issues/comments/'));
    expect(edits.length).toBeGreaterThan(0);
  });

  it('a fork’s pull request builds nothing, even with a branch name of ours, and cannot close our alias', async () => {
    const before = await t.db.deployment.count();
    const evil = await commitOn('evil', page('pwned'), 'Exfiltrate the env');
    for (const action of ['opened', 'synchronize', 'reopened']) {
      const res = await pullRequest('github', {
        number: 8,
        action,
        headBranch: 'feature/pr',
        headSha: evil,
        fork: true,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        outcome: 'ignored',
        reason: expect.stringContaining('comes from a fork'),
      });
    }
    // Its head branch named like production: still nothing.
    const asMain = await pullRequest('github', {
      number: 8,
      action: 'opened',
      headBranch: 'main',
      headSha: evil,
      fork: true,
    });
    expect(asMain.body.outcome).toBe('ignored');
    const closed = await pullRequest('github', {
      number: 8,
      action: 'closed',
      headBranch: 'feature/pr',
      headSha: evil,
      fork: true,
    });
    expect(closed.body.outcome).toBe('ignored');
    expect(await t.db.deployment.count()).toBe(before);
    expect(await t.db.branchAlias.count({ where: { branch: 'feature/pr' } })).toBe(1);
    await expectServed(`${SLUG}-git-feature-pr.localhost`, 'pr two');
    await expectServed(`${SLUG}.localhost`, 'main one');
    expect(statusesOf(stubs.github!, evil)).toHaveLength(0);
  });

  it('closed: the alias goes; the deployments and their own URLs stay', async () => {
    const res = await pullRequest('github', {
      number: 7,
      action: 'closed',
      headBranch: 'feature/pr',
      headSha,
    });
    expect(res.status).toBe(200);
    expect(res.body.reason).toContain(`removed its alias ${SLUG}-git-feature-pr.localhost`);
    await expectGone(`${SLUG}-git-feature-pr.localhost`);
    expect(await t.db.branchAlias.count({ where: { branch: 'feature/pr' } })).toBe(0);
    await expectServed(new URL(first.deploymentUrl).hostname, 'pr one');
    await expectServed(`${SLUG}.localhost`, 'main one');
  });
  it('reopened: deployed again, and a comment someone deleted is posted anew', async () => {
    const stub = stubs.github!;
    const [oldId] = [...stub.comments.keys()];
    stub.comments.clear();
    const res = await pullRequest('github', {
      number: 7,
      action: 'reopened',
      headBranch: 'feature/pr',
      headSha,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const d = await t.waitFor(res.body.deploymentId!, ['ready', 'error', 'cancelled']);
    expect(d.status).toBe('ready');
    await expectServed(`${SLUG}-git-feature-pr.localhost`, 'pr two');
    await eventually(() => expect(stub.comments.size).toBe(1));
    const [newId] = [...stub.comments.keys()];
    expect(newId).not.toBe(oldId);
    expect(
      stub.requests.some(
        (r) => r.method === 'PATCH' && r.url.endsWith(`/comments/${oldId}`) && r.status === 404,
      ),
    ).toBe(true);
  });
});

describe('pushes that deploy nothing', () => {
  it('[skip ci] in the head commit skips the deployment, recorded as such', async () => {
    const built = { status: { not: 'skipped' as const } };
    const before = await t.db.deployment.count({ where: built });
    const sha = await commitOn('main', page('skipped'), 'Fix a typo [skip ci]');
    const res = await push('github', { branch: 'main', after: sha, message: 'Fix a typo [skip ci]' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      outcome: 'skipped',
      reason: 'skipped: the commit message says [skip ci]',
    });
    const deploy = await push('github', { branch: 'feature/x', after: sha, message: 'Also [CI SKIP] here' });
    expect(deploy.body.reason).toContain('[ci skip]');
    // Each is a skipped deployment (git-skipped-deployments.test.ts), and nothing else was made.
    expect(await t.db.deployment.count({ where: built })).toBe(before);
  });

  it('deleting a branch removes its alias, and deleting production removes nothing', async () => {
    const sha = await commitOn('topic', page('topic'), 'A topic');
    const res = await push('github', { branch: 'topic', after: sha });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await t.waitFor(res.body.deploymentId!, ['ready', 'error', 'cancelled']);
    await expectServed(`${SLUG}-git-topic.localhost`, 'topic');
    const zero = '0'.repeat(40);
    const deleted = await deliver(
      'github',
      { ...PUSH_PAYLOAD.github({ repoUrl: repo.url, branch: 'topic', after: zero }), deleted: true },
      'push',
    );
    expect(deleted.body.reason).toContain('removed its alias');
    await expectGone(`${SLUG}-git-topic.localhost`);
    const mainGone = await deliver(
      'github',
      { ...PUSH_PAYLOAD.github({ repoUrl: repo.url, branch: 'main', after: zero }), deleted: true },
      'push',
    );
    expect(mainGone.body).toMatchObject({ outcome: 'ignored', reason: 'branch main was deleted' });
    await expectServed(`${SLUG}.localhost`, 'main one');
  });
});

describe('watch paths', () => {
  /** A GitHub push of `after` on main whose one commit changed `files`, after `before`. */
  const pushChanging = (after: string, before: string, files: string[]) => {
    const payload = PUSH_PAYLOAD.github({ repoUrl: repo.url, branch: 'main', after, before });
    (payload.head_commit as { modified: string[] }).modified = files;
    return deliver('github', payload, 'push');
  };

  it('skip a push that changes nothing they watch, and build one that does', async () => {
    const set = await t.api<{ paths: string[] }>('PUT', `/projects/${SLUG}/watch-paths`, {
      paths: ['site/**', '!site/**/*.md'],
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    const built = { status: { not: 'skipped' as const } };
    const before = await t.db.deployment.count({ where: built });
    const base = (await run('git', ['-C', repo.dir, 'rev-parse', 'main'])).stdout.trim();

    const docs = await commitOn('main', { 'docs/readme.md': 'docs' }, 'Docs only');
    const outside = await pushChanging(docs, base, ['docs/readme.md']);
    expect(outside.status).toBe(200);
    expect(outside.body.reason).toBe('skipped: none of the 1 changed file matches the watch paths');
    const notes = await commitOn('main', { 'site/notes.md': 'notes' }, 'Notes');
    const excluded = await pushChanging(notes, docs, ['site/notes.md', 'docs/readme.md']);
    expect(excluded.body.reason).toBe('skipped: none of the 2 changed files matches the watch paths');
    expect(excluded.body.outcome).toBe('skipped');
    expect(await t.db.deployment.count({ where: built })).toBe(before);

    const site = await commitOn('main', page('main watched'), 'The page');
    const inside = await pushChanging(site, notes, ['site/index.html']);
    expect(inside.status, JSON.stringify(inside.body)).toBe(202);
    const d = await t.waitFor(inside.body.deploymentId!, ['ready', 'error', 'cancelled']);
    expect(d.status).toBe('ready');
    await expectServed(`${SLUG}.localhost`, 'main watched');
  });

  it('build a push whose changes the payload cannot tell for sure (a new branch)', async () => {
    const sha = await commitOn('docs-only', { 'docs/more.md': 'more' }, 'More docs');
    const res = await deliver(
      'github',
      PUSH_PAYLOAD.github({ repoUrl: repo.url, branch: 'docs-only', after: sha }),
      'push',
    );
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await t.waitFor(res.body.deploymentId!, ['ready', 'error', 'cancelled']);
  });

  it('refuse a path with "..", naming it; an empty list builds everything again', async () => {
    const bad = await t.api<{ error: { field: string } }>('PUT', `/projects/${SLUG}/watch-paths`, {
      paths: ['site/**', '../etc'],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('paths.1');
    const cleared = await t.api<{ paths: string[] }>('PUT', `/projects/${SLUG}/watch-paths`, { paths: [] });
    expect(cleared.body).toEqual({ paths: [] });
  });
});

describe('GitLab and Gitea', () => {
  it('a GitLab merge request deploys its head and reports through GitLab’s API; merging removes the alias', async () => {
    await setToken('gitlab');
    const stub = stubs.gitlab!;
    const sha = await commitOn('feature/mr', page('mr one'), 'An MR');
    const res = await pullRequest('gitlab', {
      number: 3,
      action: 'open',
      headBranch: 'feature/mr',
      headSha: sha,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const d = await t.waitFor(res.body.deploymentId!, ['ready', 'error', 'cancelled']);
    expect(d.status).toBe('ready');
    await expectServed(`${SLUG}-git-feature-mr.localhost`, 'mr one');
    await eventually(() => expectStates(statesOf(stub, sha), ['pending', 'running', 'success']));
    expect(statusesOf(stub, sha)[0]!.url).toBe(`/api/v4/projects/15/statuses/${sha}`);
    expect(statusesOf(stub, sha).at(-1)!.body).toMatchObject({
      target_url: d.deploymentUrl,
      name: `deploysphere/${SLUG}`,
    });
    await eventually(() => expect([...stub.comments.values()][0]?.body).toContain(`Preview: ${d.branchUrl}`));
    for (const r of stub.requests) {
      expect(r.headers['private-token']).toBe(TOKENS.gitlab);
      expect(r.headers.authorization).toBeUndefined();
    }
    const merged = await pullRequest('gitlab', {
      number: 3,
      action: 'merge',
      headBranch: 'feature/mr',
      headSha: sha,
    });
    expect(merged.body.reason).toContain('removed its alias');
    await expectGone(`${SLUG}-git-feature-mr.localhost`);
  });

  it('a Gitea pull request deploys too, and a provider that fails does not fail the deployment', async () => {
    await setToken('gitea');
    const stub = stubs.gitea!;
    // Down for the first report's three tries: that report is lost, the later ones arrive.
    stub.failNext(3, 503);
    const sha = await commitOn('feature/gitea', page('gitea one'), 'From Gitea');
    const res = await pullRequest('gitea', {
      number: 4,
      action: 'opened',
      headBranch: 'feature/gitea',
      headSha: sha,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const d = await t.waitFor(res.body.deploymentId!, ['ready', 'error', 'cancelled']);
    expect(d.status).toBe('ready');
    await eventually(() =>
      expect(statusesOf(stub, sha).at(-1)?.body).toMatchObject({
        state: 'success',
        target_url: d.deploymentUrl,
      }),
    );
    expect(statusesOf(stub, sha)[0]!.url).toBe(`/api/v1/repos/acme/site/statuses/${sha}`);
    await eventually(() => expect([...stub.comments.values()][0]?.body).toContain(`Preview: ${d.branchUrl}`));
    expect(stub.requests.filter((r) => r.status === 503)).toHaveLength(3);
    for (const r of stub.requests) expect(r.headers.authorization).toBe(`token ${TOKENS.gitea}`);
  });
});

import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { DeploymentLogsResponse, DeploymentView, ProjectView } from '@deploysphere/contracts';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ASTRO_MINIMAL,
  DOCUSAURUS_CLASSIC,
  PLAIN_HTML_SITE,
  PNPM_VITE,
  SCRIPTED_DEPENDENCY_SITE,
  VITE_VANILLA_CHANGED,
  viteVanillaRepoFiles,
  YARN_BERRY_VITE,
} from '../../build-worker/test/starters.js';
import { GitRepo } from './git-repo.js';
import { startTestPlatform, type TestPlatform } from './harness.js';

// Issue 12's "Must show", end to end on the real local stack (PostgreSQL, NATS, s3rver, the
// sandboxed worker with the real npm registry, the edge in workerd): repositories in the shape of
// real starters deploy with nothing set but the repository and the slug, the deployment view
// records the detected preset and what the build cache did, and the edge serves the result.
//
// The starters are the build worker's own fixtures (build-worker/test/starters.ts). Docusaurus,
// the heaviest, builds in the background from the start while the others run one after another.

let t: TestPlatform;
let docs: { id: string; repo: GitRepo } | undefined;

beforeAll(async () => {
  t = await startTestPlatform();
  const repo = await GitRepo.create(DOCUSAURUS_CLASSIC);
  const res = await quickDeploy(repo, 'docs-site');
  docs = { id: res.id, repo };
}, 180_000);
afterAll(async () => {
  await t?.stop();
});

/** The quick deploy with nothing but the repository and the slug. */
async function quickDeploy(repo: GitRepo, slug: string): Promise<DeploymentView> {
  const res = await t.api<DeploymentView>('POST', '/deployments', { repoUrl: repo.url, slug });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body;
}

async function redeploy(slug: string, body: Record<string, unknown> = {}): Promise<DeploymentView> {
  const res = await t.api<DeploymentView>('POST', `/projects/${slug}/deployments`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body;
}

async function ready(id: string, timeoutMs = 300_000): Promise<DeploymentView> {
  const d = await t.waitFor(id, ['ready', 'error', 'cancelled'], timeoutMs);
  expect(d.error, (await logText(id)).slice(-4000)).toBeNull();
  expect(d.status).toBe('ready');
  return d;
}

/** Every stored log line of a deployment, as text. */
async function logText(id: string): Promise<string> {
  const messages: string[] = [];
  let after = 0;
  for (;;) {
    const res = await t.api<DeploymentLogsResponse>(
      'GET',
      `/deployments/${id}/logs?after=${after}&limit=5000`,
    );
    expect(res.status).toBe(200);
    messages.push(...res.body.lines.map((l) => l.message));
    if (res.body.lines.length < 5000) return messages.join('\n');
    after = res.body.nextAfter;
  }
}

/** Waits for a log line, e.g. the cache save that follows `ready`. */
async function waitForLog(id: string, pattern: RegExp, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await logText(id);
    if (pattern.test(text)) return text;
    if (Date.now() > deadline)
      throw new Error(`no log line of ${id} matches ${pattern}:\n${text.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The build cache is saved after the deployment is ready; the next build uses it once saved. */
async function cacheSaved(id: string): Promise<string> {
  const text = await waitForLog(id, /Build cache: (saved|not saved)/);
  expect(text).toMatch(/Build cache: saved [0-9a-f]{12} for branch /);
  return text;
}

async function served(slug: string): Promise<string> {
  const res = await t.visit(`${slug}.localhost`);
  expect(res.status).toBe(200);
  return res.body;
}

describe('zero config: nothing set but the repository and the slug', () => {
  it('deploys a plain HTML folder with no package.json, running no command', async () => {
    const repo = await GitRepo.create(PLAIN_HTML_SITE);
    const d = await ready((await quickDeploy(repo, 'plain-html')).id);
    expect(d.preset).toMatchObject({
      id: 'static',
      installCommand: '',
      buildCommand: '',
      outputDir: '.',
      packageManager: null,
    });
    expect(d.preset?.reason).toContain('index.html at the root');
    expect(d.stats.files).toBe(4);
    expect(d.cloneBytes).toBeGreaterThan(0);
    expect(d.withoutCache).toBe(false);
    const project = await t.api<ProjectView>('GET', '/projects/plain-html');
    expect(project.body).toMatchObject({
      installCommand: null,
      buildCommand: null,
      buildCacheEnabled: true,
      regions: ['us-east-1'],
    });
    expect(await served('plain-html')).toContain('<title>My test page</title>');
    expect((await t.visit('plain-html.localhost', '/styles/style.css')).body).toContain('#00539f');
    const logs = await logText(d.id);
    expect(logs).toContain('No install command; skipping');
    expect(logs).toContain('No build command; skipping');
  });

  it('deploys an Astro site: the astro preset, output dist/', async () => {
    const repo = await GitRepo.create(ASTRO_MINIMAL);
    const d = await ready((await quickDeploy(repo, 'astro-site')).id);
    expect(d.preset).toMatchObject({
      id: 'astro',
      packageManager: 'npm',
      installCommand: 'npm install',
      buildCommand: 'npm run build',
      installFrom: 'preset',
      buildFrom: 'preset',
      outputDir: 'dist',
    });
    expect(d.preset?.reason).toMatch(/^astro: dependency astro, astro\.config\.mjs/);
    expect(await served('astro-site')).toContain('<h1>Astro</h1>');
  }, 600_000);

  it('installs a pnpm project with pnpm, fetched from the npm registry', async () => {
    const repo = await GitRepo.create(PNPM_VITE);
    const d = await ready((await quickDeploy(repo, 'pnpm-vite')).id);
    expect(d.preset).toMatchObject({
      id: 'vite',
      packageManager: 'pnpm',
      installCommand: 'pnpm install --no-frozen-lockfile',
      buildCommand: 'pnpm run build',
      outputDir: 'dist',
    });
    const logs = await logText(d.id);
    expect(logs).toContain("Installing pnpm@9.15.9 from the npm registry into the build's home");
    expect(logs).toMatch(/Packages: \+\d+|Progress: resolved/); // pnpm's own output
    expect(await served('pnpm-vite')).toContain('<div id="app"></div>');
  }, 600_000);

  it('installs a Yarn berry project with Yarn 4 from @yarnpkg/cli-dist', async () => {
    const repo = await GitRepo.create(YARN_BERRY_VITE);
    const d = await ready((await quickDeploy(repo, 'yarn-berry-vite')).id);
    expect(d.preset).toMatchObject({
      id: 'vite',
      packageManager: 'yarn-berry',
      installCommand: 'yarn install --no-immutable',
      buildCommand: 'yarn run build',
      outputDir: 'dist',
    });
    const logs = await logText(d.id);
    expect(logs).toContain("Installing @yarnpkg/cli-dist@4.9.2 from the npm registry into the build's home");
    expect(logs).toMatch(/YN0000/); // Yarn berry's own log codes
    expect(await served('yarn-berry-vite')).toContain('<div id="app"></div>');
  }, 600_000);

  it("runs a dependency's install script in the sandbox, and its file is there at build time (cache off)", async () => {
    const repo = await GitRepo.create(SCRIPTED_DEPENDENCY_SITE);
    const created = await t.api<ProjectView>('POST', '/projects', {
      slug: 'scripted-site',
      repoUrl: repo.url,
      regions: ['us-east-1'],
      buildCacheEnabled: false,
    });
    expect(created.status).toBe(201);
    expect(created.body.buildCacheEnabled).toBe(false);
    const d = await ready((await redeploy('scripted-site')).id);
    expect(d.preset).toMatchObject({
      id: 'custom',
      installCommand: 'npm install',
      buildCommand: 'npm run build',
    });
    // The project's switch reached the build: nothing restored, nothing saved.
    expect(d.cache).toEqual({ restored: 'none', skipped: 'disabled' });
    expect(await served('scripted-site')).toContain('written by postinstall as builder');
    const logs = await logText(d.id);
    expect(logs).toContain('Build cache: disabled for this project');
    expect(logs).not.toContain('not yet covered by allowScripts');
  }, 300_000);
});

describe('the build cache across deployments of a Vite app', () => {
  let repo: GitRepo;
  const slug = 'vite-cache';

  beforeAll(async () => {
    repo = await GitRepo.create(await viteVanillaRepoFiles());
  }, 180_000);

  let cold: DeploymentView;
  it('deploys cold with nothing set: the vite preset, npm ci, output dist/, and saves a cache', async () => {
    cold = await ready((await quickDeploy(repo, slug)).id);
    expect(cold.preset).toMatchObject({
      id: 'vite',
      name: expect.any(String),
      packageManager: 'npm',
      installCommand: 'npm ci',
      buildCommand: 'npm run build',
      installFrom: 'preset',
      buildFrom: 'preset',
      outputDir: 'dist',
    });
    expect(cold.preset?.reason).toMatch(/^vite: dependency vite, vite\.config\.js/);
    expect(cold.cache).toMatchObject({ restored: 'none', skipped: 'miss', saveKey: expect.any(String) });
    expect(cold.cloneBytes).toBeGreaterThan(0);
    expect(cold.stats.phaseDurationsMs.install).toBeGreaterThanOrEqual(0);
    const page = await served(slug);
    expect(page).toContain('<title>Vite App</title>');
    expect(page).toMatch(/src="\/assets\/index-[^"]+\.js"/);
    const logs = await cacheSaved(cold.id);
    expect(logs).toContain('no cache for this lockfile, branch or production branch; installing cold');
    expect(logs).toMatch(/Build cache: saved [0-9a-f]{12} for branch .*node_modules [\d.]+ MB in [\d.]+ s/);
  }, 600_000);

  let warm: DeploymentView;
  it('restores node_modules on a second deployment of the same commit, and npm is not run', async () => {
    warm = await ready((await redeploy(slug)).id);
    expect(warm.commitSha).toBe(cold.commitSha);
    expect(warm.cache).toMatchObject({ restored: 'exact', source: 'lockfile', key: cold.cache!.saveKey });
    expect(warm.cache!.restoredBytes).toBeGreaterThan(0);
    // The install phase is recorded, and the preset ran no install command.
    expect(warm.stats.phaseDurationsMs.install).toBeGreaterThanOrEqual(0);
    expect(warm.preset?.installCommand).toBe('');
    const logs = await cacheSaved(warm.id);
    expect(logs).toMatch(
      /Build cache: restored (framework caches, )?node_modules from the lockfile cache [0-9a-f]{12} \([\d.]+ MB compressed\) in [\d.]+ s/,
    );
    expect(logs).toContain('Install: node_modules from the build cache matches package-lock.json');
    expect(logs).not.toContain('installing cold');
    expect(await served(slug)).toContain('<title>Vite App</title>');
  }, 600_000);

  let changed: DeploymentView;
  it('falls back to the branch cache (package manager cache only) when the lockfile changed', async () => {
    const files = await viteVanillaRepoFiles(VITE_VANILLA_CHANGED);
    await repo.commit({
      'package.json': files['package.json']!,
      'package-lock.json': files['package-lock.json']!,
    });
    changed = await ready((await redeploy(slug)).id);
    expect(changed.commitSha).not.toBe(cold.commitSha);
    expect(changed.cache).toMatchObject({ restored: 'partial', source: 'branch', key: cold.cache!.saveKey });
    expect(changed.cache!.saveKey).not.toBe(cold.cache!.saveKey);
    expect(changed.preset?.installCommand).toBe('npm ci');
    const logs = await cacheSaved(changed.id);
    expect(logs).toMatch(
      /Build cache: restored package manager cache(, framework caches)? from the branch cache [0-9a-f]{12} \([\d.]+ MB compressed\)/,
    );
  }, 600_000);

  it('ignores a corrupted archive in the bucket with a log line, and the build succeeds', async () => {
    // Overwrite every archive of the branch's newest cache in the primary region's s3rver.
    const target = t.platform.config.storage.find((s) => s.region === 'us-east-1')!;
    const s3 = createS3Client(target);
    const prefix = `cache/${slug}/${changed.cache!.saveKey}/`;
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix }));
    const archives = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => /\.tar\.(zst|gz)$/.test(k));
    expect(archives.length).toBeGreaterThanOrEqual(2); // home and node_modules at least
    for (const Key of archives) {
      await s3.send(
        new PutObjectCommand({ Bucket: target.bucket, Key, Body: Buffer.from('this is not a tar archive') }),
      );
    }
    s3.destroy();

    const d = await ready((await redeploy(slug)).id);
    expect(d.commitSha).toBe(changed.commitSha);
    expect(d.cache).toMatchObject({ restored: 'none', skipped: 'corrupt' });
    const logs = await cacheSaved(d.id);
    expect(logs).toMatch(
      /Build cache: lockfile cache [0-9a-f]{12} could not be used and is ignored: the archive is corrupt/,
    );
    expect(await served(slug)).toContain('<title>Vite App</title>');
  }, 600_000);

  it('"Redeploy without cache" restores nothing, even with a good cache there', async () => {
    const queued = await redeploy(slug, { withoutCache: true });
    expect(queued.withoutCache).toBe(true);
    const d = await ready(queued.id);
    expect(d.withoutCache).toBe(true);
    expect(d.cache).toMatchObject({ restored: 'none', skipped: 'without-cache' });
    expect(d.cache?.key).toBeUndefined();
    const logs = await cacheSaved(d.id);
    expect(logs).toContain('Build cache: skipped (deploy without cache)');
    expect(logs).not.toContain('Build cache: restored');
    // The flag belongs to that deployment only.
    const history = await t.api<DeploymentView[]>('GET', `/projects/${slug}/deployments`);
    expect(history.body.map((h) => h.withoutCache)).toEqual([true, false, false, false, false]);
  }, 600_000);
});

describe('a Docusaurus site (started first, in the background)', () => {
  it('deploys with nothing set: the docusaurus preset, npm, output build/, and the edge serves the docs', async () => {
    const d = await ready(docs!.id, 900_000);
    expect(d.preset).toMatchObject({
      id: 'docusaurus',
      packageManager: 'npm',
      installCommand: 'npm install',
      buildCommand: 'npm run build',
      outputDir: 'build',
    });
    expect(d.preset?.reason).toMatch(/^docusaurus: dependency @docusaurus\/core, docusaurus\.config\.js/);
    expect(d.stats.files).toBeGreaterThan(3);
    expect(await served('docs-site')).toContain('Hello from Docusaurus.');
  }, 900_000);
});

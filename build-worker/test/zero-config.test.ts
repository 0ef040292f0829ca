import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveKey } from '../src/build-cache/cache-store.js';
import { createS3Client } from '../src/s3-client.js';
import { createRepo, type TestRepo } from './helpers.js';
import {
  buildAndSave,
  npmLockfile,
  phases,
  startZeroConfigEnv,
  zeroConfigSpec,
  type ZeroConfigEnv,
} from './zero-config-helpers.js';
import { PLAIN_HTML_SITE, SCRIPTED_DEPENDENCY_SITE, VITE_VANILLA, VITE_VANILLA_CHANGED } from './starters.js';

let env: ZeroConfigEnv;
beforeAll(async () => {
  env = await startZeroConfigEnv();
});
afterAll(async () => {
  await env?.stop();
});

describe('zero config (nothing set but the repository)', () => {
  it('publishes a plain HTML folder with no package.json, running no command', async () => {
    const repo = await createRepo(PLAIN_HTML_SITE);
    const { result, logs } = await buildAndSave(env, zeroConfigSpec(env, repo));
    expect(result.outputDir).toBe('.');
    expect(result.stats.preset).toMatchObject({
      id: 'static',
      installCommand: '',
      buildCommand: '',
      outputDir: '.',
    });
    expect(result.stats.preset?.reason).toContain('index.html at the root');
    expect(result.stats.files).toBe(4);
    expect(logs.text()).toContain('No install command; skipping');
    expect(logs.text()).toContain('No build command; skipping');
    // The install phase is recorded even when nothing ran.
    expect(result.stats.phaseDurationsMs.install).toBeGreaterThanOrEqual(0);
  });

  it('publishes public/ when the HTML lives there', async () => {
    const repo = await createRepo({ 'public/index.html': '<h1>hi</h1>', 'notes.txt': 'not published' });
    const { result } = await buildAndSave(env, zeroConfigSpec(env, repo));
    expect(result.outputDir).toBe('public');
    expect(result.stats.files).toBe(1);
  });
});

describe('a Vite app from the registry, and its build cache', () => {
  const { packageJson, files } = VITE_VANILLA;
  let repo: TestRepo;
  let lock: string;

  beforeAll(async () => {
    lock = await npmLockfile(packageJson);
    repo = await createRepo({
      ...files,
      'package.json': JSON.stringify(packageJson, null, 2),
      'package-lock.json': lock,
    });
  }, 180_000);

  it('detects Vite, installs with npm ci, builds into dist, and saves a cache; the second build of the same commit restores node_modules', async () => {
    const cold = await buildAndSave(env, zeroConfigSpec(env, repo, { projectSlug: 'vite-app' }));
    expect(cold.result.stats.preset).toMatchObject({
      id: 'vite',
      packageManager: 'npm',
      installCommand: 'npm ci',
      buildCommand: 'npm run build',
      installFrom: 'preset',
      buildFrom: 'preset',
      outputDir: 'dist',
    });
    expect(cold.result.stats.preset?.reason).toMatch(/^vite: dependency vite, vite\.config\.js/);
    expect(cold.result.outputDir).toBe('dist');
    expect(cold.result.stats.cache).toMatchObject({ restored: 'none', skipped: 'miss' });
    expect(cold.saved?.saved).toBe(true);
    expect(cold.logs.text()).toMatch(/Build cache: saved [0-9a-f]{12} for branch .*node_modules/);

    const warm = await buildAndSave(env, zeroConfigSpec(env, repo, { projectSlug: 'vite-app' }));
    // On a miss, the warm build's log says why (the restore's own line); show it with the failure.
    expect(warm.result.stats.cache, warm.logs.text()).toMatchObject({
      restored: 'exact',
      source: 'lockfile',
      key: cold.result.stats.cache?.saveKey,
    });
    expect(warm.result.stats.cache?.restoredBytes).toBeGreaterThan(0);
    expect(warm.result.stats.preset?.installCommand).toBe('');
    expect(warm.logs.text()).toContain(
      'Install: node_modules from the build cache matches package-lock.json',
    );
    // npm with node_modules back needs no package cache: only node_modules (and framework caches).
    expect(warm.logs.text()).toMatch(
      /Build cache: restored (framework caches, )?node_modules from the lockfile cache/,
    );
    // The exact hit left the home out; its save keeps the cache's home and node_modules.
    expect(warm.logs.text()).toContain('(package manager cache and node_modules unchanged)');
    console.log(`vite cold: ${phases(cold.result.stats)}\nvite warm: ${phases(warm.result.stats)}`);
  }, 600_000);

  it('falls back to the branch cache (package manager cache only) when the lockfile changed', async () => {
    const changed = VITE_VANILLA_CHANGED;
    await repo.commit({
      'package.json': JSON.stringify(changed, null, 2),
      'package-lock.json': await npmLockfile(changed),
    });
    const { result, logs } = await buildAndSave(env, zeroConfigSpec(env, repo, { projectSlug: 'vite-app' }));
    expect(result.stats.cache).toMatchObject({ restored: 'partial', source: 'branch' });
    expect(result.stats.cache?.key).not.toBe(result.stats.cache?.saveKey);
    expect(result.stats.preset?.installCommand).toBe('npm ci');
    expect(logs.text()).toMatch(
      /Build cache: restored package manager cache(, framework caches)? from the branch cache/,
    );
    console.log(`vite, changed lockfile: ${phases(result.stats)}`);
  }, 600_000);

  it('ignores a corrupt archive with a log line, and the build succeeds', async () => {
    const first = await buildAndSave(env, zeroConfigSpec(env, repo, { projectSlug: 'vite-app' }));
    const key = first.result.stats.cache!.saveKey!;
    const client = createS3Client(env.target);
    for (const c of ['zst', 'gz'] as const) {
      for (const part of ['home', 'caches', 'modules'] as const)
        await client.send(
          new PutObjectCommand({
            Bucket: env.target.bucket,
            Key: archiveKey('vite-app', key, part, c),
            Body: Buffer.from('this is not a tar archive'),
          }),
        );
    }
    client.destroy();
    const { result, logs } = await buildAndSave(env, zeroConfigSpec(env, repo, { projectSlug: 'vite-app' }));
    expect(result.stats.cache?.restored).not.toBe('exact');
    expect(logs.text()).toMatch(
      /Build cache: lockfile cache [0-9a-f]{12} could not be used and is ignored: the archive is corrupt/,
    );
    expect(result.stats.files).toBeGreaterThan(0);
  }, 600_000);

  it('"without cache" restores nothing and saves a fresh cache', async () => {
    const { result, logs, saved } = await buildAndSave(
      env,
      zeroConfigSpec(env, repo, { projectSlug: 'vite-app', cache: { enabled: true, restore: false } }),
    );
    expect(result.stats.cache).toMatchObject({ restored: 'none', skipped: 'without-cache' });
    expect(logs.text()).not.toContain('Build cache: restored');
    expect(saved?.saved).toBe(true);
  }, 600_000);

  it('"cache disabled" neither restores nor saves', async () => {
    const { result, logs, saved } = await buildAndSave(
      env,
      zeroConfigSpec(env, repo, { projectSlug: 'vite-app', cache: { enabled: false, restore: true } }),
    );
    expect(result.stats.cache).toEqual({ restored: 'none', skipped: 'disabled' });
    expect(saved).toBeNull();
    expect(logs.text()).not.toMatch(/Build cache: (restored|saved)/);
  }, 600_000);
});

describe('dependency install scripts', () => {
  it("run inside the sandbox: a dependency's postinstall writes a file the build then sees", async () => {
    const repo = await createRepo(SCRIPTED_DEPENDENCY_SITE);
    const { result, logs } = await buildAndSave(
      env,
      zeroConfigSpec(env, repo, { projectSlug: 'scripted-site' }),
    );
    expect(result.stats.preset).toMatchObject({
      id: 'custom',
      installCommand: 'npm install',
      buildCommand: 'npm run build',
    });
    expect(logs.text()).toContain('written by postinstall as builder');
    expect(logs.text()).not.toContain('not yet covered by allowScripts');
  }, 300_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo } from './helpers.js';
import {
  buildAndSave,
  phases,
  startZeroConfigEnv,
  zeroConfigSpec,
  type ZeroConfigEnv,
} from './zero-config-helpers.js';
import { ASTRO_MINIMAL, PNPM_VITE, YARN_BERRY_VITE } from './starters.js';

let env: ZeroConfigEnv;
beforeAll(async () => {
  env = await startZeroConfigEnv();
});
afterAll(async () => {
  await env?.stop();
});

describe('package managers fetched from the npm registry into the build home', () => {
  it('installs a pnpm project with pnpm (packageManager field)', async () => {
    const repo = await createRepo(PNPM_VITE);
    const { result, logs } = await buildAndSave(env, zeroConfigSpec(env, repo, { projectSlug: 'pnpm-vite' }));
    expect(result.stats.preset).toMatchObject({
      id: 'vite',
      packageManager: 'pnpm',
      installCommand: 'pnpm install --no-frozen-lockfile',
      buildCommand: 'pnpm run build',
    });
    expect(logs.text()).toContain("Installing pnpm@9.15.9 from the npm registry into the build's home");
    // pnpm's own layout: node_modules/.pnpm exists only when pnpm did the install.
    expect(logs.text()).toMatch(/Packages: \+\d+|Progress: resolved/);
    expect(result.outputDir).toBe('dist');
    console.log(`pnpm: ${phases(result.stats)}`);
  }, 600_000);

  it('installs a Yarn berry project with Yarn 4 from @yarnpkg/cli-dist', async () => {
    const repo = await createRepo(YARN_BERRY_VITE);
    const { result, logs } = await buildAndSave(
      env,
      zeroConfigSpec(env, repo, { projectSlug: 'yarn-berry-vite' }),
    );
    expect(result.stats.preset).toMatchObject({
      id: 'vite',
      packageManager: 'yarn-berry',
      installCommand: 'yarn install --no-immutable',
      buildCommand: 'yarn run build',
    });
    expect(logs.text()).toContain(
      "Installing @yarnpkg/cli-dist@4.9.2 from the npm registry into the build's home",
    );
    expect(logs.text()).toMatch(/YN0000/); // Yarn berry's own log codes
    expect(result.outputDir).toBe('dist');
    console.log(`yarn berry: ${phases(result.stats)}`);
  }, 600_000);
});

describe('framework starters', () => {
  it('builds an Astro site with nothing set', async () => {
    const repo = await createRepo(ASTRO_MINIMAL);
    const { result } = await buildAndSave(env, zeroConfigSpec(env, repo, { projectSlug: 'astro-minimal' }));
    expect(result.stats.preset).toMatchObject({
      id: 'astro',
      installCommand: 'npm install',
      buildCommand: 'npm run build',
      outputDir: 'dist',
    });
    expect(result.stats.preset?.reason).toMatch(/^astro: dependency astro, astro\.config\.mjs/);
    expect(result.outputDir).toBe('dist');
    expect(result.stats.files).toBeGreaterThanOrEqual(1);
    console.log(`astro: ${phases(result.stats)}`);
  }, 600_000);
});

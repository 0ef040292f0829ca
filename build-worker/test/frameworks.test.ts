import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo } from './helpers.js';
import {
  buildAndSave,
  phases,
  startZeroConfigEnv,
  zeroConfigSpec,
  type ZeroConfigEnv,
} from './zero-config-helpers.js';

let env: ZeroConfigEnv;
beforeAll(async () => {
  env = await startZeroConfigEnv();
});
afterAll(async () => {
  await env?.stop();
});

const viteApp = {
  'index.html': '<!doctype html><div id="app"></div><script type="module" src="/src/main.js"></script>',
  'src/main.js': "document.querySelector('#app').textContent = 'Hello';\n",
};

describe('package managers fetched from the npm registry into the build home', () => {
  it('installs a pnpm project with pnpm (packageManager field)', async () => {
    const repo = await createRepo({
      ...viteApp,
      'package.json': JSON.stringify({
        name: 'pnpm-vite',
        private: true,
        type: 'module',
        packageManager: 'pnpm@9.15.9',
        scripts: { build: 'vite build' },
        devDependencies: { vite: '^7.1.0' },
      }),
    });
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
    const repo = await createRepo({
      ...viteApp,
      '.yarnrc.yml': 'nodeLinker: node-modules\n',
      'package.json': JSON.stringify({
        name: 'yarn-berry-vite',
        private: true,
        type: 'module',
        packageManager: 'yarn@4.9.2',
        scripts: { build: 'vite build' },
        devDependencies: { vite: '^7.1.0' },
      }),
    });
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
    // The shape of `npm create astro -- --template minimal`.
    const repo = await createRepo({
      'package.json': JSON.stringify({
        name: 'astro-minimal',
        type: 'module',
        version: '0.0.1',
        scripts: { dev: 'astro dev', build: 'astro build', preview: 'astro preview', astro: 'astro' },
        dependencies: { astro: '^5.13.0' },
      }),
      'astro.config.mjs': "import { defineConfig } from 'astro/config';\nexport default defineConfig({});\n",
      'src/pages/index.astro':
        '---\nconst title = "Astro";\n---\n<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>\n',
      'tsconfig.json': '{ "extends": "astro/tsconfigs/strict" }',
      '.gitignore': 'node_modules\ndist\n.astro\n',
    });
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

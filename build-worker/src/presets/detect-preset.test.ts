import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectPreset, displayArgv } from './detect-preset.js';
import { installArgv } from './package-manager.js';
import { ProjectFiles } from './project-files.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function project(files: Record<string, string | object>, workdir = '') {
  const dir = await mkdtemp(join(tmpdir(), 'bw-preset-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return detectPreset(new ProjectFiles(dir, workdir));
}

const pkg = (deps: Record<string, string>, scripts: Record<string, string> = { build: 'x' }, extra = {}) => ({
  name: 'p',
  scripts,
  devDependencies: deps,
  ...extra,
});

describe('detectPreset', () => {
  it.each([
    ['vite', { vite: '7', '@vitejs/plugin-react': '5' }, 'Vite (React)', 'dist'],
    ['vite', { vite: '7', '@vitejs/plugin-vue': '5' }, 'Vite (Vue)', 'dist'],
    ['vite', { vite: '7', '@sveltejs/vite-plugin-svelte': '5' }, 'Vite (Svelte)', 'dist'],
    ['vite', { vite: '7', '@preact/preset-vite': '2' }, 'Vite (Preact)', 'dist'],
    ['astro', { astro: '5', vite: '7' }, 'Astro', 'dist'],
    ['sveltekit', { '@sveltejs/kit': '2', vite: '7' }, 'SvelteKit (adapter-static)', 'build'],
    ['nextjs', { next: '15' }, 'Next.js (static export)', 'out'],
    ['nuxt', { nuxt: '3' }, 'Nuxt (generate)', null],
    ['remix', { '@remix-run/dev': '2', vite: '6' }, 'Remix (SPA mode)', 'build/client'],
    ['react-router', { '@react-router/dev': '7', vite: '6' }, 'React Router (SPA mode)', 'build/client'],
    ['gatsby', { gatsby: '5' }, 'Gatsby', 'public'],
    ['docusaurus', { '@docusaurus/core': '3' }, 'Docusaurus', 'build'],
    ['eleventy', { '@11ty/eleventy': '3' }, 'Eleventy', '_site'],
    ['vitepress', { vitepress: '1', vite: '5' }, 'VitePress', '.vitepress/dist'],
    ['create-react-app', { 'react-scripts': '5' }, 'Create React App', 'build'],
    ['vue-cli', { '@vue/cli-service': '5' }, 'Vue CLI', 'dist'],
  ])('%s from %j', async (id, deps, name, outputDir) => {
    const preset = await project({ 'package.json': pkg(deps) });
    expect(preset).toMatchObject({ id, name, outputDir, buildArgv: ['npm', 'run', 'build'] });
    expect(preset.reason.startsWith(`${id}: dependency `)).toBe(true);
  });

  it("uses the framework's own command when there is no build script, and names the config file", async () => {
    const preset = await project({ 'package.json': pkg({ astro: '5' }, {}), 'astro.config.mjs': '' });
    expect(preset.buildArgv).toEqual(['npm', 'exec', '--no', '--', 'astro', 'build']);
    expect(preset.reason).toContain('astro: dependency astro, astro.config.mjs');
  });

  it("prefers Nuxt's generate script and notes Next.js without static export", async () => {
    const nuxt = await project({
      'package.json': pkg({ nuxt: '3' }, { build: 'nuxt build', generate: 'nuxt generate' }),
    });
    expect(nuxt.buildArgv).toEqual(['npm', 'run', 'generate']);
    const next = await project({
      'package.json': pkg({ next: '15' }),
      'next.config.js': 'module.exports = {}',
    });
    expect(next.notes[0]).toContain("output: 'export'");
    const exported = await project({
      'package.json': pkg({ next: '15' }),
      'next.config.mjs': "export default { output: 'export' }",
    });
    expect(exported.notes).toEqual([]);
  });

  it("reads Angular's output path (browser/ for the application builder)", async () => {
    const preset = await project({
      'package.json': pkg({ '@angular/core': '19', '@angular/cli': '19' }),
      'angular.json': {
        projects: {
          app: {
            architect: {
              build: { builder: '@angular/build:application', options: { outputPath: 'dist/app' } },
            },
          },
        },
      },
    });
    expect(preset).toMatchObject({ id: 'angular', outputDir: 'dist/app/browser' });
  });

  it('falls back to the build script with output detection (sveltejs/template, Rollup into public/)', async () => {
    const preset = await project({
      'package.json': pkg({ rollup: '3', svelte: '3' }, { build: 'rollup -c' }),
    });
    expect(preset).toMatchObject({ id: 'custom', outputDir: null, buildArgv: ['npm', 'run', 'build'] });
  });

  it('publishes plain HTML with no commands: the root, or public/', async () => {
    expect(await project({ 'index.html': '<h1>x</h1>' })).toMatchObject({
      id: 'static',
      outputDir: '.',
      needsInstall: false,
      buildArgv: null,
    });
    expect(await project({ 'public/index.html': '<h1>x</h1>' })).toMatchObject({
      id: 'static',
      outputDir: 'public',
    });
    expect(await project({ 'README.md': 'x' })).toMatchObject({ id: 'none', outputDir: null });
  });

  it('package.json without a build script: install only, no build', async () => {
    const preset = await project({
      'package.json': { name: 'p', dependencies: { lodash: '4' } },
      'index.html': '',
    });
    expect(preset).toMatchObject({ id: 'no-build', needsInstall: true, buildArgv: null, outputDir: '.' });
  });
});

describe('package managers', () => {
  it.each([
    [
      { 'pnpm-lock.yaml': "lockfileVersion: '9.0'\n" },
      {},
      'pnpm',
      '9',
      'pnpm install --frozen-lockfile --prefer-offline',
    ],
    [
      { 'pnpm-lock.yaml': "lockfileVersion: '6.0'\n" },
      {},
      'pnpm',
      '8',
      'pnpm install --frozen-lockfile --prefer-offline',
    ],
    [
      { 'yarn.lock': '# yarn lockfile v1\n' },
      {},
      'yarn-classic',
      '1',
      'yarn install --frozen-lockfile --prefer-offline',
    ],
    [{ 'yarn.lock': '__metadata:\n  version: 8\n' }, {}, 'yarn-berry', '4', 'yarn install --immutable'],
    [{ 'yarn.lock': '__metadata:\n  version: 6\n' }, {}, 'yarn-berry', '3', 'yarn install --immutable'],
    [{ 'package-lock.json': '{}' }, {}, 'npm', null, 'npm ci'],
    [{ 'bun.lock': '{}' }, {}, 'bun', '1', 'bun install --frozen-lockfile'],
    [{}, { packageManager: 'pnpm@9.15.0+sha512.abc' }, 'pnpm', '9.15.0', 'pnpm install --no-frozen-lockfile'],
    [{}, { packageManager: 'yarn@4.5.3' }, 'yarn-berry', '4.5.3', 'yarn install --no-immutable'],
    [{}, { packageManager: 'yarn@1.22.22' }, 'yarn-classic', '1.22.22', 'yarn install'],
    [{}, {}, 'npm', null, 'npm install'],
  ])('%j %j → %s', async (lockfiles, field, id, version, install) => {
    const preset = await project({
      'package.json': pkg({ vite: '7' }, { build: 'vite build' }, field),
      ...lockfiles,
    });
    expect(preset.packageManager).toMatchObject({ id, toolVersion: version });
    expect(displayArgv(installArgv(preset.packageManager!, false))).toBe(install);
  });

  it('ignores a packageManager version that is not a plain version (it is passed to npm)', async () => {
    const preset = await project({
      'package.json': pkg({ vite: '7' }, {}, { packageManager: 'pnpm@latest; rm -rf /' }),
    });
    expect(preset.packageManager?.id).toBe('npm');
  });

  it("finds a monorepo's lockfile at the repository root", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bw-preset-'));
    dirs.push(dir);
    await mkdir(join(dir, 'apps/web'), { recursive: true });
    await writeFile(join(dir, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n");
    await writeFile(join(dir, 'apps/web/package.json'), JSON.stringify(pkg({ vite: '7' })));
    const preset = await detectPreset(new ProjectFiles(dir, 'apps/web'));
    expect(preset.packageManager).toMatchObject({ id: 'pnpm', lockfile: 'pnpm-lock.yaml' });
  });
});

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// Repositories in the shape of real starters, with real dependencies from the npm registry. The
// build worker's tests build them through runBuild; the control plane's deploy them end to end
// (control-plane/test/zero-config-deploy.test.ts). Plain data and one lockfile helper, so both
// can import this file.

const run = promisify(execFile);
const json = (value: unknown) => JSON.stringify(value, null, 2);

/** The shape of MDN's beginner-html-site-styled: index.html at the root, no package.json. */
export const PLAIN_HTML_SITE: Record<string, string> = {
  'index.html':
    '<!doctype html><title>My test page</title><link href="styles/style.css" rel="stylesheet"><img src="images/firefox-icon.png">',
  'styles/style.css': 'html { background-color: #00539f }',
  'images/firefox-icon.png': 'not really a png',
  'README.md': 'published too: the root is the output',
};

/** `npm create vite -- --template vanilla`, trimmed; commit it with its package-lock.json. */
export const VITE_VANILLA = {
  packageJson: {
    name: 'vite-vanilla-starter',
    private: true,
    version: '0.0.0',
    type: 'module',
    scripts: { dev: 'vite', build: 'vite build', preview: 'vite preview' },
    devDependencies: { vite: '^7.1.0' },
  },
  files: {
    'index.html':
      '<!doctype html><html><head><title>Vite App</title></head><body><div id="app"></div><script type="module" src="/src/main.js"></script></body></html>',
    'src/main.js':
      "import './style.css';\ndocument.querySelector('#app').innerHTML = '<h1>Hello Vite!</h1>';\n",
    'src/style.css': 'h1 { color: #646cff }',
    'vite.config.js': "import { defineConfig } from 'vite';\nexport default defineConfig({});\n",
    '.gitignore': 'node_modules\ndist\n',
  } as Record<string, string>,
};

/** The Vite vanilla starter with a changed dependency set (a new lockfile), for cache fallbacks. */
export const VITE_VANILLA_CHANGED = {
  ...VITE_VANILLA.packageJson,
  dependencies: { 'is-number': '^7.0.0' },
};

const MINIMAL_VITE_FILES: Record<string, string> = {
  'index.html': '<!doctype html><div id="app"></div><script type="module" src="/src/main.js"></script>',
  'src/main.js': "document.querySelector('#app').textContent = 'Hello';\n",
};

/** A Vite app whose packageManager field says pnpm (no lockfile: pnpm resolves it). */
export const PNPM_VITE: Record<string, string> = {
  ...MINIMAL_VITE_FILES,
  'package.json': json({
    name: 'pnpm-vite',
    private: true,
    type: 'module',
    packageManager: 'pnpm@9.15.9',
    scripts: { build: 'vite build' },
    devDependencies: { vite: '^7.1.0' },
  }),
};

/** A Vite app on Yarn 4 (berry) with the node-modules linker. */
export const YARN_BERRY_VITE: Record<string, string> = {
  ...MINIMAL_VITE_FILES,
  '.yarnrc.yml': 'nodeLinker: node-modules\n',
  'package.json': json({
    name: 'yarn-berry-vite',
    private: true,
    type: 'module',
    packageManager: 'yarn@4.9.2',
    scripts: { build: 'vite build' },
    devDependencies: { vite: '^7.1.0' },
  }),
};

/** The shape of `npm create astro -- --template minimal`. */
export const ASTRO_MINIMAL: Record<string, string> = {
  'package.json': json({
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
};

/** The shape of `npx create-docusaurus classic`, docs only (about 1,300 packages). */
export const DOCUSAURUS_CLASSIC: Record<string, string> = {
  'package.json': json({
    name: 'docs-site',
    version: '0.0.0',
    private: true,
    scripts: { docusaurus: 'docusaurus', start: 'docusaurus start', build: 'docusaurus build' },
    dependencies: {
      '@docusaurus/core': '^3.8.1',
      '@docusaurus/preset-classic': '^3.8.1',
      '@mdx-js/react': '^3.0.0',
      clsx: '^2.0.0',
      'prism-react-renderer': '^2.3.0',
      react: '^19.0.0',
      'react-dom': '^19.0.0',
    },
    engines: { node: '>=18.0' },
  }),
  'docusaurus.config.js': [
    'export default {',
    "  title: 'Docs',",
    "  url: 'https://docs.example.com',",
    "  baseUrl: '/',",
    "  onBrokenLinks: 'throw',",
    "  i18n: { defaultLocale: 'en', locales: ['en'] },",
    "  presets: [['classic', { docs: { routeBasePath: '/', sidebarPath: './sidebars.js' }, blog: false, theme: {} }]],",
    '};',
  ].join('\n'),
  'sidebars.js': "export default { docs: [{ type: 'autogenerated', dirName: '.' }] };\n",
  'docs/intro.md': '---\nslug: /\n---\n\n# Introduction\n\nHello from Docusaurus.\n',
  '.gitignore': 'node_modules\nbuild\n.docusaurus\n',
};

/**
 * A site whose local dependency has a `postinstall` that writes a file; the build reads it and
 * publishes it in dist/index.html, and logs it.
 */
export const SCRIPTED_DEPENDENCY_SITE: Record<string, string> = {
  'package.json': json({
    name: 'scripted-site',
    private: true,
    scripts: { build: 'node build.mjs' },
    dependencies: { 'scripted-dep': 'file:./packages/scripted-dep' },
  }),
  'packages/scripted-dep/package.json': JSON.stringify({
    name: 'scripted-dep',
    version: '1.0.0',
    scripts: { postinstall: 'node write-marker.js' },
  }),
  'packages/scripted-dep/write-marker.js':
    "require('node:fs').writeFileSync('marker.txt', 'written by postinstall as ' + require('node:os').userInfo().username);",
  'build.mjs': [
    "import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';",
    "const marker = readFileSync('node_modules/scripted-dep/marker.txt', 'utf8');",
    "mkdirSync('dist', { recursive: true });",
    "writeFileSync('dist/index.html', `<p>${marker}</p>`);",
    'console.log(marker);',
  ].join('\n'),
};

/**
 * A package-lock.json for a package.json, as the project's author would commit it: resolved
 * from the registry on the host, no scripts, no node_modules.
 */
export async function npmLockfile(packageJson: object): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bw-lock-'));
  try {
    await writeFile(join(dir, 'package.json'), JSON.stringify(packageJson, null, 2));
    await run('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: dir,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    return await readFile(join(dir, 'package-lock.json'), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The Vite vanilla starter's files with its package.json and lockfile, ready to commit. */
export async function viteVanillaRepoFiles(
  packageJson: object = VITE_VANILLA.packageJson,
): Promise<Record<string, string>> {
  return {
    ...VITE_VANILLA.files,
    'package.json': json(packageJson),
    'package-lock.json': await npmLockfile(packageJson),
  };
}

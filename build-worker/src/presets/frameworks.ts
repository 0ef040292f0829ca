import type { ProjectFiles } from './project-files.js';

/**
 * One framework the worker recognises. `match` looks at the dependencies and config files and
 * says why it matched; the build runs the project's own `build` script when it has one (what the
 * authors run), else `command` through the package manager's exec.
 */
export interface Framework {
  id: string;
  name: string;
  /** Any of these in dependencies or devDependencies. */
  dependencies: readonly string[];
  /** Config files that confirm it (named in the reason when present). */
  configFiles?: readonly string[];
  /** The framework's own build command, used when package.json has no `build` script. */
  command: readonly string[];
  /** A script to prefer over `build` when present (e.g. Nuxt's `generate`). */
  preferScript?: string;
  /** Where the static output lands, relative to the project. */
  outputDir: string | null | ((files: ProjectFiles) => Promise<string>);
  /** Framework caches worth keeping between builds, relative to the project. */
  caches: readonly string[];
  /** A note for the log when the framework needs a setting for static output. */
  note?: (files: ProjectFiles) => Promise<string | null>;
}

const VITE_CONFIGS = [
  'vite.config.ts',
  'vite.config.js',
  'vite.config.mjs',
  'vite.config.mts',
  'vite.config.cjs',
];

/**
 * Most specific first: Astro, SvelteKit, Remix, React Router, VitePress and Nuxt are all built on
 * Vite, so plain Vite comes after them.
 */
export const FRAMEWORKS: readonly Framework[] = [
  {
    id: 'nextjs',
    name: 'Next.js (static export)',
    dependencies: ['next'],
    configFiles: ['next.config.js', 'next.config.mjs', 'next.config.ts'],
    command: ['next', 'build'],
    outputDir: 'out',
    caches: ['.next/cache'],
    note: async (files) => {
      for (const name of ['next.config.js', 'next.config.mjs', 'next.config.ts']) {
        const text = await files.read(name);
        if (text && /output\s*:\s*['"]export['"]/.test(text)) return null;
      }
      return "Next.js: only static export is served; set output: 'export' in next.config so the build writes out/";
    },
  },
  {
    id: 'astro',
    name: 'Astro',
    dependencies: ['astro'],
    configFiles: ['astro.config.mjs', 'astro.config.ts', 'astro.config.js'],
    command: ['astro', 'build'],
    outputDir: 'dist',
    caches: ['node_modules/.astro', '.astro'],
  },
  {
    id: 'sveltekit',
    name: 'SvelteKit (adapter-static)',
    dependencies: ['@sveltejs/kit'],
    configFiles: ['svelte.config.js', 'svelte.config.ts'],
    command: ['vite', 'build'],
    outputDir: 'build',
    caches: ['.svelte-kit'],
  },
  {
    id: 'nuxt',
    name: 'Nuxt (generate)',
    dependencies: ['nuxt', 'nuxt3'],
    configFiles: ['nuxt.config.ts', 'nuxt.config.js'],
    command: ['nuxt', 'generate'],
    preferScript: 'generate',
    // Nuxt 3 writes .output/public, Nuxt 2 dist/: both are detection candidates after the build.
    outputDir: null,
    caches: ['.nuxt', 'node_modules/.cache'],
  },
  {
    id: 'remix',
    name: 'Remix (SPA mode)',
    dependencies: ['@remix-run/dev'],
    configFiles: VITE_CONFIGS,
    command: ['remix', 'vite:build'],
    outputDir: 'build/client',
    caches: ['node_modules/.vite', '.cache'],
  },
  {
    id: 'react-router',
    name: 'React Router (SPA mode)',
    dependencies: ['@react-router/dev'],
    configFiles: ['react-router.config.ts', 'react-router.config.js'],
    command: ['react-router', 'build'],
    outputDir: 'build/client',
    caches: ['node_modules/.vite'],
  },
  {
    id: 'gatsby',
    name: 'Gatsby',
    dependencies: ['gatsby'],
    configFiles: ['gatsby-config.js', 'gatsby-config.ts', 'gatsby-config.mjs'],
    command: ['gatsby', 'build'],
    outputDir: 'public',
    // Gatsby's incremental builds need both .cache and the previous public/.
    caches: ['.cache', 'public'],
  },
  {
    id: 'docusaurus',
    name: 'Docusaurus',
    dependencies: ['@docusaurus/core'],
    configFiles: ['docusaurus.config.js', 'docusaurus.config.ts', 'docusaurus.config.mjs'],
    command: ['docusaurus', 'build'],
    outputDir: 'build',
    caches: ['.docusaurus', 'node_modules/.cache'],
  },
  {
    id: 'eleventy',
    name: 'Eleventy',
    dependencies: ['@11ty/eleventy'],
    configFiles: ['eleventy.config.js', 'eleventy.config.mjs', '.eleventy.js', 'eleventy.config.cjs'],
    command: ['eleventy'],
    outputDir: '_site',
    caches: ['.cache'],
  },
  {
    id: 'vitepress',
    name: 'VitePress',
    dependencies: ['vitepress'],
    configFiles: [
      '.vitepress/config.ts',
      '.vitepress/config.mts',
      '.vitepress/config.js',
      'docs/.vitepress/config.ts',
      'docs/.vitepress/config.mts',
      'docs/.vitepress/config.js',
    ],
    command: ['vitepress', 'build', 'docs'],
    preferScript: 'docs:build',
    // The site's source is the project root or docs/, wherever its .vitepress/ is.
    outputDir: async (files) =>
      (await files.exists('docs/.vitepress')) ? 'docs/.vitepress/dist' : '.vitepress/dist',
    caches: ['.vitepress/cache', 'docs/.vitepress/cache'],
  },
  {
    id: 'create-react-app',
    name: 'Create React App',
    dependencies: ['react-scripts'],
    command: ['react-scripts', 'build'],
    outputDir: 'build',
    caches: ['node_modules/.cache'],
  },
  {
    id: 'angular',
    name: 'Angular',
    dependencies: ['@angular/cli', '@angular/core'],
    configFiles: ['angular.json'],
    command: ['ng', 'build'],
    outputDir: angularOutputDir,
    caches: ['.angular/cache'],
  },
  {
    id: 'vue-cli',
    name: 'Vue CLI',
    dependencies: ['@vue/cli-service'],
    configFiles: ['vue.config.js'],
    command: ['vue-cli-service', 'build'],
    outputDir: 'dist',
    caches: ['node_modules/.cache'],
  },
  {
    id: 'vite',
    name: 'Vite',
    dependencies: ['vite'],
    configFiles: VITE_CONFIGS,
    command: ['vite', 'build'],
    outputDir: 'dist',
    caches: ['node_modules/.vite'],
  },
];

/** Which UI library a Vite app uses, for the preset's name ("Vite (React)"). */
export const VITE_FLAVOURS: readonly [string, string][] = [
  ['@vitejs/plugin-react', 'React'],
  ['@vitejs/plugin-react-swc', 'React'],
  ['@vitejs/plugin-vue', 'Vue'],
  ['@sveltejs/vite-plugin-svelte', 'Svelte'],
  ['@preact/preset-vite', 'Preact'],
];

/**
 * Angular writes to angular.json's outputPath; the application builder (Angular 17+) puts the
 * browser files in its `browser/` subdirectory.
 */
async function angularOutputDir(files: ProjectFiles): Promise<string> {
  try {
    const config = JSON.parse((await files.read('angular.json')) ?? '{}') as {
      projects?: Record<
        string,
        { architect?: { build?: { builder?: string; options?: { outputPath?: unknown } } } }
      >;
    };
    const project = Object.values(config.projects ?? {})[0];
    const build = project?.architect?.build;
    const outputPath = build?.options?.outputPath;
    const base =
      typeof outputPath === 'string'
        ? outputPath
        : typeof outputPath === 'object' &&
            outputPath !== null &&
            'base' in outputPath &&
            typeof outputPath.base === 'string'
          ? outputPath.base
          : null;
    if (!base) return 'dist';
    return build?.builder?.endsWith(':application') ? `${base.replace(/\/+$/, '')}/browser` : base;
  } catch {
    return 'dist';
  }
}

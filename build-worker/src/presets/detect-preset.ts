import { FRAMEWORKS, VITE_FLAVOURS, type Framework } from './frameworks.js';
import { detectPackageManager, execArgv, runScriptArgv, type PackageManager } from './package-manager.js';
import type { ProjectFiles } from './project-files.js';

/**
 * What the worker would run for a project nobody configured. Commands are argument arrays built
 * from fixed words and checked names (script names are looked up, never copied into a shell).
 */
export interface DetectedPreset {
  /** 'static', 'none', 'custom', 'no-build' or a framework id ('vite', 'astro', …). */
  id: string;
  name: string;
  /** Why, for the log and the API: "vite: dependency vite, vite.config.ts". */
  reason: string;
  /** null when there is no package.json. */
  packageManager: PackageManager | null;
  /** Whether there is anything to install (package.json with dependencies). */
  needsInstall: boolean;
  /** null: no build step. */
  buildArgv: string[] | null;
  /** Relative to the project; null: look for it after the build. */
  outputDir: string | null;
  /** Framework caches to keep between builds, relative to the project. */
  caches: string[];
  /** Things to tell the user (e.g. Next.js without static export). */
  notes: string[];
}

type PackageJson = Record<string, unknown>;

function dependencyNames(pkg: PackageJson): Set<string> {
  const names = new Set<string>();
  for (const field of ['dependencies', 'devDependencies']) {
    const deps = pkg[field];
    if (deps && typeof deps === 'object') for (const name of Object.keys(deps)) names.add(name);
  }
  return names;
}

function scripts(pkg: PackageJson): Record<string, string> {
  const s = pkg.scripts;
  if (!s || typeof s !== 'object') return {};
  return Object.fromEntries(Object.entries(s).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** Framework caches every preset keeps: bundlers and tools that cache under node_modules/.cache. */
const COMMON_CACHES = ['node_modules/.cache'];

export async function detectPreset(files: ProjectFiles): Promise<DetectedPreset> {
  const pkg = await files.packageJson();
  if (!pkg) {
    // A folder of HTML: publish it as it is.
    if (await files.exists('index.html'))
      return staticPreset('.', 'static: no package.json, index.html at the root');
    if (await files.exists('public/index.html'))
      return staticPreset('public', 'static: no package.json, public/index.html');
    return {
      ...staticPreset(null, 'none: no package.json and no index.html; nothing to build'),
      id: 'none',
      name: 'No build',
    };
  }

  const pm = await detectPackageManager(files, pkg);
  const deps = dependencyNames(pkg);
  const scriptMap = scripts(pkg);
  const base = {
    packageManager: pm,
    needsInstall: deps.size > 0,
    notes: [] as string[],
  };

  for (const framework of FRAMEWORKS) {
    const dep = framework.dependencies.find((d) => deps.has(d));
    if (!dep) continue;
    const config = framework.configFiles ? await files.firstOf(framework.configFiles) : null;
    const why = [`dependency ${dep}`, ...(config ? [config] : [])];
    const script = chooseScript(framework, scriptMap);
    if (script) why.push(`script ${script}`);
    const note = framework.note ? await framework.note(files) : null;
    return {
      ...base,
      id: framework.id,
      name: framework.id === 'vite' ? viteName(deps) : framework.name,
      reason: `${framework.id}: ${why.join(', ')}; ${pm.id} (${pm.reason})`,
      buildArgv: script
        ? runScriptArgv(pm.id, script)
        : execArgv(pm.id, framework.command[0]!, framework.command.slice(1)),
      outputDir:
        typeof framework.outputDir === 'function' ? await framework.outputDir(files) : framework.outputDir,
      caches: unique([...framework.caches, ...COMMON_CACHES]),
      notes: note ? [note] : [],
    };
  }

  if (scriptMap.build !== undefined) {
    return {
      ...base,
      id: 'custom',
      name: 'build script',
      reason: `custom: package.json has a build script and no known framework; ${pm.id} (${pm.reason})`,
      buildArgv: runScriptArgv(pm.id, 'build'),
      outputDir: null,
      caches: COMMON_CACHES,
    };
  }
  // A package.json only for tooling (or nothing at all): install, no build, publish what is there.
  const root = (await files.exists('index.html'))
    ? '.'
    : (await files.exists('public/index.html'))
      ? 'public'
      : null;
  return {
    ...base,
    id: 'no-build',
    name: 'No build',
    reason: `no-build: package.json without a build script${root ? `, ${root === '.' ? 'index.html' : 'public/index.html'}` : ''}; ${pm.id} (${pm.reason})`,
    buildArgv: null,
    outputDir: root,
    caches: COMMON_CACHES,
  };
}

function staticPreset(outputDir: string | null, reason: string): DetectedPreset {
  return {
    id: 'static',
    name: 'Static HTML',
    reason,
    packageManager: null,
    needsInstall: false,
    buildArgv: null,
    outputDir,
    caches: [],
    notes: [],
  };
}

function chooseScript(framework: Framework, scriptMap: Record<string, string>): string | null {
  if (framework.preferScript && scriptMap[framework.preferScript] !== undefined)
    return framework.preferScript;
  return scriptMap.build !== undefined ? 'build' : null;
}

function viteName(deps: Set<string>): string {
  const flavour = VITE_FLAVOURS.find(([dep]) => deps.has(dep))?.[1];
  return flavour ? `Vite (${flavour})` : 'Vite';
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** A command as the log and the API show it. The words are fixed or checked, so joining is display only. */
export function displayArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@./:=+-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

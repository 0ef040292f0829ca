import { posix } from 'node:path';
import type { BuildPresetReport, BuildSpec } from '@deploysphere/contracts';
import { BuildError } from '../build-error.js';
import { detectPreset, displayArgv, type DetectedPreset } from './detect-preset.js';
import { checkNodeVersion, type NodeVersionCheck } from './node-version.js';
import { installArgv, type PackageManager } from './package-manager.js';
import { ProjectFiles } from './project-files.js';

/** A command to run: the project's own (a shell string) or the preset's (an argument array). */
export type PlannedCommand = { kind: 'project'; command: string } | { kind: 'preset'; argv: string[] } | null;

export interface BuildPlan {
  preset: DetectedPreset;
  node: NodeVersionCheck;
  /** The install command, once the cache says whether node_modules came back (warm). */
  install(warm: boolean): PlannedCommand;
  build: PlannedCommand;
  /** Relative to the project: the project's outputDir, else the preset's; null: detect. */
  outputDir: string | null;
  /** Framework caches and node_modules directories, relative to the checkout. */
  repoCaches: string[];
  modules: string[];
  /** The lockfile relative to the checkout, for the cache key. */
  lockfile: string | null;
  report(warm: boolean): BuildPresetReport;
}

/**
 * The project's settings over the detected preset: a stored command wins, null takes the preset's,
 * '' skips the phase.
 */
export async function planBuild(spec: BuildSpec, checkoutDir: string, workdir: string): Promise<BuildPlan> {
  const files = new ProjectFiles(checkoutDir, workdir);
  let preset: DetectedPreset;
  let packageJson: Record<string, unknown> | null;
  try {
    packageJson = await files.packageJson();
    preset = await detectPreset(files);
  } catch (err) {
    throw new BuildError(
      'invalid_input',
      `package.json${workdir ? ` in ${workdir}` : ''} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      { phase: 'install' },
    );
  }
  const node = await checkNodeVersion(files, packageJson);
  const pm: PackageManager | null = preset.packageManager;
  const install = (warm: boolean): PlannedCommand => {
    if (spec.installCommand !== null)
      return spec.installCommand.trim() === '' ? null : { kind: 'project', command: spec.installCommand };
    if (!pm || !preset.needsInstall) return null;
    return { kind: 'preset', argv: installArgv(pm, warm) };
  };
  const build: PlannedCommand =
    spec.buildCommand !== null
      ? spec.buildCommand.trim() === ''
        ? null
        : { kind: 'project', command: spec.buildCommand }
      : preset.buildArgv
        ? { kind: 'preset', argv: preset.buildArgv }
        : null;
  const inRepo = (p: string) => (workdir ? posix.join(workdir, p) : p);
  const repoCaches = preset.caches.map(inRepo);
  if (pm?.id === 'yarn-berry') repoCaches.push(inRepo('.yarn/cache'), inRepo('.yarn/install-state.gz'));
  const modules = [...new Set([inRepo('node_modules'), 'node_modules'])];
  const lockfile = pm?.lockfile ? pm.lockfile : null;
  const outputDir = spec.outputDir ?? preset.outputDir;
  return {
    preset,
    node,
    install,
    build,
    outputDir,
    repoCaches,
    modules,
    lockfile: lockfile === null ? null : lockfile,
    report: (warm) => {
      const i = install(warm);
      return {
        id: preset.id,
        name: preset.name,
        reason: preset.reason,
        packageManager: pm?.id ?? null,
        installCommand: show(i),
        buildCommand: show(build),
        installFrom: spec.installCommand === null ? 'preset' : 'project',
        buildFrom: spec.buildCommand === null ? 'preset' : 'project',
        outputDir,
        nodeVersionRequested: node.requested,
        nodeVersion: node.running,
      };
    },
  };
}

export function show(command: PlannedCommand): string {
  if (!command) return '';
  return command.kind === 'project' ? command.command : displayArgv(command.argv);
}

/** Where a fetched package manager lives in the build's home, and what installs it there. */
export function toolInstall(
  pm: PackageManager,
  sandboxHome: string,
): { prefix: string; binDir: string; argv: string[] } | null {
  if (!pm.toolPackage || !pm.toolVersion) return null;
  const prefix = posix.join(sandboxHome, '.deploysphere', 'tools', `${pm.id}-${pm.toolVersion}`);
  return {
    prefix,
    binDir: posix.join(prefix, 'node_modules', '.bin'),
    // npm from the registry, inside the sandbox, through the egress proxy: not corepack, which
    // needs registry signatures the registry here does not serve, and not Yarn's own host. A
    // local install under --prefix, not --global: --global --prefix would also move npm's
    // global config (and the machine's CA settings in it) to that prefix.
    argv: [
      'npm',
      'install',
      '--prefix',
      prefix,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--loglevel=warn',
      `${pm.toolPackage}@${pm.toolVersion}`,
    ],
  };
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildPresetReport } from '@deploysphere/contracts';
import type { ProjectFiles } from './project-files.js';

export type PackageManagerId = NonNullable<BuildPresetReport['packageManager']>;

/**
 * A package manager the project uses, with the exact version to fetch when it is not the npm
 * that comes with Node. The version comes from the repository (untrusted): it is accepted only
 * as a plain semver version or a major, and is passed to npm as one argument, never through a shell.
 */
export interface PackageManager {
  id: PackageManagerId;
  /** The npm package that provides it (pnpm, yarn, @yarnpkg/cli-dist, bun), or null for npm itself. */
  toolPackage: string | null;
  /** What to install from the registry: an exact version or a major ('9'). */
  toolVersion: string | null;
  /** The lockfile it follows, relative to the project, or null when there is none. */
  lockfile: string | null;
  reason: string;
}

/** A plain version (1.22.19, 9.15.0, 4.5.3-rc.1): nothing a shell or npm could read as anything else. */
const SAFE_VERSION = /^\d+(\.\d+){0,2}(-[0-9A-Za-z.]+)?$/;

/** `packageManager: "pnpm@9.15.0+sha512.…"` → ['pnpm', '9.15.0']; the hash suffix is dropped. */
export function parsePackageManagerField(value: unknown): { name: string; version: string } | null {
  if (typeof value !== 'string') return null;
  const match = /^(npm|pnpm|yarn|bun)@([^+]+)(\+.*)?$/.exec(value.trim());
  if (!match || !SAFE_VERSION.test(match[2]!)) return null;
  return { name: match[1]!, version: match[2]! };
}

const LOCKFILES = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['bun.lock', 'bun'],
  ['bun.lockb', 'bun'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
] as const;

/**
 * The package manager, from the `packageManager` field first (what the project pins), then the
 * lockfile, in the project directory or, for a workspace member, at the repository root. Yarn's
 * lockfile tells classic (v1) from berry (v2+): berry's has a `__metadata` block.
 */
export async function detectPackageManager(
  files: ProjectFiles,
  packageJson: Record<string, unknown> | null,
): Promise<PackageManager> {
  const field = parsePackageManagerField(packageJson?.packageManager);
  let lock: { path: string; name: string; absolute: string } | null = null;
  for (const dir of files.lockfileDirs) {
    for (const [name, pm] of LOCKFILES) {
      if (await files.existsAt(dir, name)) {
        lock = {
          path: dir.relative ? `${dir.relative}/${name}` : name,
          name: pm,
          absolute: join(dir.absolute, name),
        };
        break;
      }
    }
    if (lock) break;
  }
  const lockfile = lock?.path ?? null;

  if (field) {
    const reason = `packageManager field ${field.name}@${field.version}${lockfile ? `, ${lockfile}` : ''}`;
    if (field.name === 'npm') return { id: 'npm', toolPackage: null, toolVersion: null, lockfile, reason };
    if (field.name === 'pnpm')
      return { id: 'pnpm', toolPackage: 'pnpm', toolVersion: field.version, lockfile, reason };
    if (field.name === 'bun')
      return { id: 'bun', toolPackage: 'bun', toolVersion: field.version, lockfile, reason };
    const major = Number(field.version.split('.')[0]);
    return major >= 2
      ? { id: 'yarn-berry', toolPackage: '@yarnpkg/cli-dist', toolVersion: field.version, lockfile, reason }
      : { id: 'yarn-classic', toolPackage: 'yarn', toolVersion: field.version, lockfile, reason };
  }
  if (!lock)
    return { id: 'npm', toolPackage: null, toolVersion: null, lockfile: null, reason: 'no lockfile: npm' };
  const reason = lock.path;
  switch (lock.name) {
    case 'pnpm': {
      // pnpm-lock.yaml's lockfileVersion tells which pnpm wrote it: 9.0 → pnpm 9/10, 6.x → 8, 5.x → 7.
      const text = await readFile(lock.absolute, 'utf8').catch(() => '');
      const version = /lockfileVersion:\s*'?(\d+)/.exec(text)?.[1];
      const major = version === '5' ? '7' : version === '6' ? '8' : '9';
      return { id: 'pnpm', toolPackage: 'pnpm', toolVersion: major, lockfile, reason };
    }
    case 'yarn': {
      const text = await readFile(lock.absolute, 'utf8').catch(() => '');
      if (/^__metadata:/m.test(text)) {
        // __metadata.version 8 is Yarn 4, 6 is Yarn 3.
        const version = /^ {2}version:\s*(\d+)/m.exec(text)?.[1];
        const major = version !== undefined && Number(version) < 8 ? '3' : '4';
        return { id: 'yarn-berry', toolPackage: '@yarnpkg/cli-dist', toolVersion: major, lockfile, reason };
      }
      return { id: 'yarn-classic', toolPackage: 'yarn', toolVersion: '1', lockfile, reason };
    }
    case 'bun':
      return { id: 'bun', toolPackage: 'bun', toolVersion: '1', lockfile, reason };
    default:
      return { id: 'npm', toolPackage: null, toolVersion: null, lockfile, reason };
  }
}

/**
 * The install command for a package manager, as an argument array. With a lockfile the install
 * must follow it exactly (a build never rewrites the lockfile); `warm` is the exact-cache-match
 * case, where node_modules was restored and npm should check it rather than delete it (`npm ci`
 * always starts from an empty node_modules).
 */
export function installArgv(pm: PackageManager, warm: boolean): string[] {
  const locked = pm.lockfile !== null;
  switch (pm.id) {
    case 'npm':
      if (!locked) return ['npm', 'install'];
      return warm ? ['npm', 'install', '--prefer-offline', '--no-save'] : ['npm', 'ci'];
    case 'pnpm':
      // pnpm freezes the lockfile by default in CI; without one it must be allowed to write it.
      return locked
        ? ['pnpm', 'install', '--frozen-lockfile', '--prefer-offline']
        : ['pnpm', 'install', '--no-frozen-lockfile'];
    case 'yarn-classic':
      return locked ? ['yarn', 'install', '--frozen-lockfile', '--prefer-offline'] : ['yarn', 'install'];
    case 'yarn-berry':
      return locked ? ['yarn', 'install', '--immutable'] : ['yarn', 'install', '--no-immutable'];
    case 'bun':
      return locked ? ['bun', 'install', '--frozen-lockfile'] : ['bun', 'install'];
  }
}

/** `<pm> run <script>` as an argument array. */
export function runScriptArgv(pm: PackageManagerId, script: string): string[] {
  switch (pm) {
    case 'npm':
      return ['npm', 'run', script];
    case 'pnpm':
      return ['pnpm', 'run', script];
    case 'yarn-classic':
    case 'yarn-berry':
      return ['yarn', 'run', script];
    case 'bun':
      return ['bun', 'run', script];
  }
}

/** Runs a dependency's binary (e.g. `astro build`) through the package manager. */
export function execArgv(pm: PackageManagerId, bin: string, args: string[]): string[] {
  switch (pm) {
    case 'npm':
      return ['npm', 'exec', '--no', '--', bin, ...args];
    case 'pnpm':
      return ['pnpm', 'exec', bin, ...args];
    case 'yarn-classic':
    case 'yarn-berry':
      return ['yarn', 'run', bin, ...args];
    case 'bun':
      return ['bun', 'x', bin, ...args];
  }
}

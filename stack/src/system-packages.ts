import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A program the platform runs, and the Debian package that provides it. */
export interface SystemProgram {
  binary: string;
  debianPackage: string;
}

export const NATS_SERVER: SystemProgram = { binary: 'nats-server', debianPackage: 'nats-server' };
export const BUBBLEWRAP: SystemProgram = { binary: 'bwrap', debianPackage: 'bubblewrap' };

export class MissingProgramsError extends Error {
  constructor(readonly missing: SystemProgram[]) {
    const pkgs = missing.map((p) => p.debianPackage).join(' ');
    super(
      `${missing.map((p) => p.binary).join(', ')} not installed, and installing needs root. Install with:\n` +
        `  sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends ${pkgs}'`,
    );
    this.name = 'MissingProgramsError';
  }
}

/** Finds a program on PATH or in the sbin directories Debian installs daemons to. */
export async function findProgram(binary: string): Promise<string | undefined> {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
    '/usr/bin',
    '/sbin',
  ];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/**
 * Makes sure each program is installed: as root, missing ones are installed from Debian's
 * packages; otherwise it refuses with the exact command to run. Returns name → absolute path.
 */
export async function ensurePrograms(
  programs: SystemProgram[],
  log: (line: string) => void = () => {},
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const missing: SystemProgram[] = [];
  for (const p of programs) {
    const path = await findProgram(p.binary);
    if (path) found.set(p.binary, path);
    else missing.push(p);
  }
  if (missing.length === 0) return found;
  if (process.getuid?.() !== 0) throw new MissingProgramsError(missing);

  const pkgs = missing.map((p) => p.debianPackage);
  log(`installing Debian packages: ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await execFileAsync('apt-get', ['update', '-qq'], { env });
  await execFileAsync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env });
  for (const p of missing) {
    const path = await findProgram(p.binary);
    if (!path) throw new MissingProgramsError([p]);
    found.set(p.binary, path);
  }
  return found;
}

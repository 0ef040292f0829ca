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
/** Prometheus and promtool come in one package; the exporters are packages of their own. */
export const PROMETHEUS: SystemProgram = { binary: 'prometheus', debianPackage: 'prometheus' };
export const PROMTOOL: SystemProgram = { binary: 'promtool', debianPackage: 'prometheus' };
export const NODE_EXPORTER: SystemProgram = {
  binary: 'prometheus-node-exporter',
  debianPackage: 'prometheus-node-exporter',
};
export const POSTGRES_EXPORTER: SystemProgram = {
  binary: 'prometheus-postgres-exporter',
  debianPackage: 'prometheus-postgres-exporter',
};
/** amtool checks the Alertmanager configuration example in observability/ (tests only). */
export const AMTOOL: SystemProgram = { binary: 'amtool', debianPackage: 'prometheus-alertmanager' };
/** sshd serves a private repository over SSH to the deploy-key tests (tests only). */
export const SSHD: SystemProgram = { binary: 'sshd', debianPackage: 'openssh-server' };
/** What the local platform's Prometheus runs: itself and the two exporters it scrapes. */
export const PROMETHEUS_PROGRAMS: SystemProgram[] = [PROMETHEUS, NODE_EXPORTER, POSTGRES_EXPORTER];

/**
 * What the local platform runs: nats-server unless NATS_URL points elsewhere, and bubblewrap,
 * which sandboxes every build, unless the operator allowed unsandboxed builds. One list, so
 * `npm start` and `npm test` cannot drift apart again (Wave 1's `npm start` forgot bubblewrap).
 */
export function localPlatformPrograms(opts: {
  embeddedNats: boolean;
  sandboxedBuilds: boolean;
  /** Prometheus and its exporters, unless PROMETHEUS_URL points at an existing Prometheus. */
  embeddedPrometheus?: boolean;
}): SystemProgram[] {
  return [
    ...(opts.embeddedNats ? [NATS_SERVER] : []),
    ...(opts.sandboxedBuilds ? [BUBBLEWRAP] : []),
    ...(opts.embeddedPrometheus ? PROMETHEUS_PROGRAMS : []),
  ];
}

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

/** Where programs are looked for: PATH, then the sbin and bin directories Debian installs to. */
export function defaultSearchPath(): string[] {
  return [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/bin', '/sbin'];
}

/** Finds a program in the search path (by default PATH plus Debian's sbin and bin directories). */
export async function findProgram(
  binary: string,
  searchPath: readonly string[] = defaultSearchPath(),
): Promise<string | undefined> {
  for (const dir of searchPath) {
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
  opts: { searchPath?: readonly string[]; canInstall?: boolean } = {},
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const missing: SystemProgram[] = [];
  for (const p of programs) {
    const path = await findProgram(p.binary, opts.searchPath);
    if (path) found.set(p.binary, path);
    else missing.push(p);
  }
  if (missing.length === 0) return found;
  if (!(opts.canInstall ?? process.getuid?.() === 0)) throw new MissingProgramsError(missing);

  const pkgs = missing.map((p) => p.debianPackage);
  log(`installing Debian packages: ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await execFileAsync('apt-get', ['update', '-qq'], { env });
  await execFileAsync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env });
  for (const p of missing) {
    const path = await findProgram(p.binary, opts.searchPath);
    if (!path) throw new MissingProgramsError([p]);
    found.set(p.binary, path);
  }
  return found;
}

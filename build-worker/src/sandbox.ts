import { accessSync, constants, existsSync, lstatSync, readlinkSync } from 'node:fs';
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildError } from './build-error.js';
import type { LogSink } from './log-sink.js';
import { runProcess } from './run-process.js';

export interface SandboxLimits {
  /** Wall-clock limit for this command. */
  timeoutMs: number;
  /** Address-space limit (RLIMIT_AS) per process. */
  memoryMb: number;
  /** CPU-time limit (RLIMIT_CPU) per process. */
  cpuSeconds: number;
}

export interface SandboxCommand {
  /**
   * The user's command, run as `sh -c <command>`, or a command the worker chose itself (a preset,
   * a tool install), run as an argument array: the worker never puts text from the repository
   * into a shell string.
   */
  command: string | { argv: string[] };
  /** Host directory of the checkout: the only writable tree the command sees besides its home. */
  checkoutDir: string;
  /** Host directory used as the command's $HOME (npm cache and the like). Private to this build. */
  homeDir: string;
  /** Where to run, relative to the checkout ('' or a relative path without '..'). */
  workdir: string;
  /** The project's env. Nothing of the worker's own environment is passed. */
  env: Record<string, string>;
  limits: SandboxLimits;
  logs: LogSink;
  signal?: AbortSignal;
  /**
   * 'bwrap' runs inside bubblewrap (path from findBwrap). 'unprivileged' runs as another uid and
   * gid through setpriv, with no new privileges and no capabilities (BUILD_SANDBOX=unprivileged,
   * for Fargate, where bubblewrap cannot run). 'none' runs directly with a clean env and the same
   * rlimits: only when the operator allowed unsandboxed builds.
   */
  mode: SandboxMode;
  /**
   * For error messages: 'install' or 'build', or 'ignored build step' and 'source extraction'
   * (which run in the clone phase).
   */
  label: 'install' | 'build' | 'ignored build step' | 'source extraction';
  /** Directories (inside the sandbox) put first on PATH: the package manager fetched for this build. */
  pathPrefix?: string[];
  /** Variables the worker sets for this command (under the project's env, which wins). */
  extraEnv?: Record<string, string>;
  /**
   * The build's egress proxy (see egress/egress-proxy.ts). Without it a sandboxed command has no
   * network at all. Unsandboxed runs ignore it: they use the host's network directly.
   */
  egress?: { socketPath: string } | undefined;
}

export type SandboxMode =
  | { kind: 'bwrap'; bwrapPath: string }
  | { kind: 'unprivileged'; setprivPath: string; uid: number; gid: number }
  | { kind: 'none' };

/** The uid and gid user commands run as in unprivileged mode: nobody/nogroup, which owns nothing. */
export const UNPRIVILEGED_UID = 65534;

/** Where the checkout and home appear inside the sandbox. */
export const SANDBOX_WORKSPACE = '/workspace';
export const SANDBOX_HOME = '/home/builder';
const SANDBOX_UID = 1000;
/** Inside the sandbox: the proxy's socket, the forwarder in front of it, and its port. */
const SANDBOX_EGRESS_SOCKET = '/run/deploysphere/egress.sock';
const SANDBOX_INIT = '/run/deploysphere/sandbox-init.mjs';
export const SANDBOX_PROXY_PORT = 3128;
const SANDBOX_INIT_SOURCE = fileURLToPath(new URL('./egress/sandbox-init.mjs', import.meta.url));

/** The first executable bwrap on PATH (or the given path), or null when bubblewrap is missing. */
export function findBwrap(explicit?: string): string | null {
  const candidates = explicit
    ? [explicit]
    : [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin'].map((d) =>
        join(d, 'bwrap'),
      );
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** The Node toolchain's prefix (e.g. /usr or ~/.nvm/versions/node/v20): made visible read-only. */
export function nodeToolchainDir(): string {
  return dirname(dirname(process.execPath));
}

/**
 * The unprivileged mode: util-linux's setpriv, and a worker running as root (it must switch to
 * another uid). Null with the reason when this worker cannot.
 */
export function unprivilegedMode(
  uid = UNPRIVILEGED_UID,
): { mode: Extract<SandboxMode, { kind: 'unprivileged' }> } | { problem: string } {
  const setprivPath = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  if (!setprivPath) return { problem: 'setpriv (util-linux) is not installed' };
  if (process.getuid?.() !== 0)
    return { problem: 'the worker must run as root to switch user code to another uid' };
  return { mode: { kind: 'unprivileged', setprivPath, uid, gid: uid } };
}

/**
 * setpriv's arguments: the user's uid and gid, no supplementary groups, no_new_privs (setuid
 * binaries gain nothing), and every capability gone from the inheritable and bounding sets.
 * setpriv then execs the next argument, so nothing of it stays behind.
 */
export function setprivArgs(mode: { uid: number; gid: number }): string[] {
  return [
    `--reuid=${mode.uid}`,
    `--regid=${mode.gid}`,
    '--clear-groups',
    '--no-new-privs',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--',
  ];
}

function prlimitPath(): string {
  for (const p of ['/usr/bin/prlimit', '/bin/prlimit']) if (existsSync(p)) return p;
  throw new BuildError(
    'sandbox_unavailable',
    'prlimit (util-linux) is required to apply build resource limits',
  );
}

const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** The environment a build command sees: the project's env over a small fixed base. */
export function sandboxEnv(
  projectEnv: Record<string, string>,
  home: string,
  toolchainBin: string,
  proxyUrl?: string,
  extra: { pathPrefix?: string[] | undefined; env?: Record<string, string> | undefined } = {},
): Record<string, string> {
  const base: Record<string, string> = {
    PATH: [...(extra.pathPrefix ?? []), toolchainBin, '/usr/local/bin', '/usr/bin', '/bin']
      .filter((v, i, a) => a.indexOf(v) === i)
      .join(':'),
    HOME: home,
    CI: '1',
    LANG: 'C.UTF-8',
    TMPDIR: '/tmp',
    npm_config_cache: posix.join(home, '.npm'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    // npm 11 runs a dependency's install scripts only when package.json's allowScripts lists it.
    // Here the sandbox is the boundary (no host, no secrets but the project's own, egress through
    // the proxy), so dependencies build as they do on every other host: esbuild, sharp, native addons.
    npm_config_dangerously_allow_all_scripts: 'true',
    // pnpm 10 has the same gate for dependencies' build scripts; pnpm_config_* so npm, which
    // warns about every npm_config_* it does not know, never sees it.
    pnpm_config_dangerously_allow_all_builds: 'true',
    // Node's own CA list is not the system's: tools other than npm (Yarn berry, pnpm's fetcher)
    // trust what git and curl trust, the system store that is bound in read-only.
    ...(existsSync(SYSTEM_CA_BUNDLE) ? { NODE_EXTRA_CA_CERTS: SYSTEM_CA_BUNDLE } : {}),
    YARN_ENABLE_TELEMETRY: '0',
    YARN_ENABLE_PROGRESS_BARS: 'false',
    ...(proxyUrl ? proxyEnv(proxyUrl) : {}),
    ...extra.env,
  };
  const env = { ...base, ...projectEnv };
  // RLIMIT_AS and WebAssembly's guard-region reservations do not mix; without the trap handler
  // V8 bounds-checks instead and wasm-based build tools keep working under the memory limit.
  const nodeOptions = ['--disable-wasm-trap-handler', projectEnv.NODE_OPTIONS].filter(Boolean).join(' ');
  env.NODE_OPTIONS = nodeOptions;
  return env;
}

/**
 * Every spelling of "use this proxy" that the common tools read: curl, git, npm, pnpm and Yarn
 * classic (npm_config_*), Yarn berry (YARN_*), and Node's own fetch where it supports it.
 */
function proxyEnv(url: string): Record<string, string> {
  const noProxy = 'localhost,127.0.0.1,::1';
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    npm_config_proxy: url,
    npm_config_https_proxy: url,
    YARN_HTTP_PROXY: url,
    YARN_HTTPS_PROXY: url,
    NODE_USE_ENV_PROXY: '1',
  };
}

/** The bubblewrap arguments for one command: the whole policy of what a build can see. */
export function bwrapArgs(cmd: SandboxCommand, env: Record<string, string>, etcDir: string): string[] {
  // --unshare-all includes the network: the sandbox has only its own loopback, and the egress
  // proxy's socket (bound in below) is its one way out.
  const args: string[] = [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--cap-drop',
    'ALL',
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_UID),
    '--hostname',
    'deploysphere-build',
    '--die-with-parent',
    '--new-session',
    '--ro-bind',
    '/usr',
    '/usr',
  ];
  // On merged-/usr systems /bin, /lib, ... are symlinks into /usr; elsewhere they are bound.
  for (const top of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    let stat;
    try {
      stat = lstatSync(top);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) {
      args.push('--symlink', readlinkSync(top), top);
    } else if (stat.isDirectory()) {
      args.push('--ro-bind', top, top);
    }
  }
  for (const path of [
    '/etc/ssl',
    '/etc/ca-certificates',
    '/etc/resolv.conf',
    '/etc/hosts',
    '/etc/nsswitch.conf',
    '/etc/alternatives',
    '/etc/localtime',
  ]) {
    args.push('--ro-bind-try', path, path);
  }
  args.push(
    '--ro-bind',
    join(etcDir, 'passwd'),
    '/etc/passwd',
    '--ro-bind',
    join(etcDir, 'group'),
    '/etc/group',
  );
  const toolchain = nodeToolchainDir();
  if (toolchain !== '/usr' && !toolchain.startsWith('/usr/')) args.push('--ro-bind', toolchain, toolchain);
  args.push(
    '--tmpfs',
    '/tmp',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--bind',
    cmd.checkoutDir,
    SANDBOX_WORKSPACE,
    '--bind',
    cmd.homeDir,
    SANDBOX_HOME,
    '--chdir',
    cmd.workdir ? posix.join(SANDBOX_WORKSPACE, cmd.workdir) : SANDBOX_WORKSPACE,
    '--clearenv',
  );
  args.push('--ro-bind', SANDBOX_INIT_SOURCE, SANDBOX_INIT);
  if (cmd.egress) args.push('--bind', cmd.egress.socketPath, SANDBOX_EGRESS_SOCKET);
  for (const [key, value] of Object.entries(env)) args.push('--setenv', key, value);
  return args;
}

/**
 * The CPU limit's hard value is a little above the soft one: at the soft limit the kernel sends
 * SIGXCPU, which names the limit unambiguously; with equal values it sends SIGKILL straight away,
 * which could be anything.
 */
function limitArgs(limits: SandboxLimits): string[] {
  return [
    `--as=${limits.memoryMb * 1024 * 1024}`,
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 5}`,
    '--core=0',
    '--',
  ];
}

/**
 * Runs one user command with `sh -c` under the sandbox and the configured limits, streaming its
 * output to the log sink. Resolves on exit code 0; otherwise throws a BuildError that names the
 * exit code (or the limit that was hit) and carries the last lines of output.
 */
export async function runInSandbox(cmd: SandboxCommand): Promise<void> {
  const prlimit = prlimitPath();
  const onLine = (stream: 'stdout' | 'stderr', line: string) => cmd.logs.write(stream, line);
  let result;
  if (cmd.mode.kind === 'bwrap') {
    const etcDir = join(dirname(cmd.homeDir), 'sandbox-etc');
    await mkdir(etcDir, { recursive: true });
    await writeFile(
      join(etcDir, 'passwd'),
      `root:x:0:0:root:/root:/bin/sh\nbuilder:x:${SANDBOX_UID}:${SANDBOX_UID}:builder:${SANDBOX_HOME}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    );
    await writeFile(join(etcDir, 'group'), `root:x:0:\nbuilder:x:${SANDBOX_UID}:\nnogroup:x:65534:\n`);
    const proxyUrl = cmd.egress ? `http://127.0.0.1:${SANDBOX_PROXY_PORT}` : undefined;
    const env = sandboxEnv(cmd.env, SANDBOX_HOME, join(nodeToolchainDir(), 'bin'), proxyUrl, {
      pathPrefix: cmd.pathPrefix,
      env: cmd.extraEnv,
    });
    // The init always runs: it reports how the command ended on fd 3. With egress, its forwarder
    // starts first and it runs the command once that listens.
    const init = cmd.egress
      ? [process.execPath, SANDBOX_INIT, String(SANDBOX_PROXY_PORT), SANDBOX_EGRESS_SOCKET, '--']
      : [process.execPath, SANDBOX_INIT, '-', '-', '--'];
    const args = [
      ...bwrapArgs(cmd, env, etcDir),
      '--',
      ...init,
      prlimit,
      ...limitArgs(cmd.limits),
      ...commandArgv(cmd.command),
    ];
    // bwrap itself gets an empty environment: it is PID 1 of the sandbox, and /proc/1/environ is
    // readable from inside.
    result = await runProcess(cmd.mode.bwrapPath, args, {
      env: {},
      signal: cmd.signal,
      timeoutMs: cmd.limits.timeoutMs,
      onLine,
      sideChannel: true,
    });
  } else {
    const mode = cmd.mode;
    // Unprivileged: a temporary directory of the build's own, not the worker's /tmp.
    const tmp = mode.kind === 'unprivileged' ? join(dirname(cmd.homeDir), 'tmp') : undefined;
    if (tmp && mode.kind === 'unprivileged') {
      await mkdir(tmp, { recursive: true, mode: 0o700 });
      await chown(tmp, mode.uid, mode.gid);
    }
    const env = sandboxEnv(cmd.env, cmd.homeDir, join(nodeToolchainDir(), 'bin'), undefined, {
      pathPrefix: cmd.pathPrefix?.map((p) =>
        p.startsWith(SANDBOX_HOME) ? cmd.homeDir + p.slice(SANDBOX_HOME.length) : p,
      ),
      env: { ...cmd.extraEnv, ...(tmp ? { TMPDIR: tmp } : {}) },
    });
    const argv = [prlimit, ...limitArgs(cmd.limits), ...commandArgv(cmd.command)];
    const [file, ...args] =
      mode.kind === 'unprivileged' ? [mode.setprivPath, ...setprivArgs(mode), ...argv] : argv;
    result = await runProcess(file!, args, {
      cwd: cmd.workdir ? join(cmd.checkoutDir, cmd.workdir) : cmd.checkoutDir,
      env,
      signal: cmd.signal,
      timeoutMs: cmd.limits.timeoutMs,
      onLine,
    });
  }

  const last = result.tail.length > 0 ? `\nLast lines:\n${result.tail.join('\n')}` : '';
  const phase = cmd.label === 'ignored build step' || cmd.label === 'source extraction' ? 'clone' : cmd.label;
  if (result.aborted) throw new BuildError('cancelled', 'Build cancelled', { phase });
  if (result.timedOut) {
    throw new BuildError(
      'timeout',
      `The ${cmd.label} command timed out: the build exceeded its time limit (BUILD_TIMEOUT_MS) and was stopped.${last}`,
      { phase },
    );
  }
  if (result.code === 0) return;
  const shown = typeof cmd.command === 'string' ? cmd.command : cmd.command.argv.join(' ');
  const outcome = commandOutcome(result, cmd.mode.kind === 'bwrap');
  const code = result.code ?? 128;
  const how =
    outcome.signal !== null
      ? `was killed by ${outcome.signal}${signalHint(outcome.signal, cmd.limits, result.tail)}`
      : `failed with exit code ${outcome.code ?? code}`;
  throw new BuildError('command_failed', `The ${cmd.label} command "${truncate(shown)}" ${how}.${last}`, {
    phase,
    exitCode: outcome.code ?? code,
    // Whether it exited on its own: the ignored build step tells "exit 1" from a kill.
    ...(outcome.signal !== null ? { signal: outcome.signal } : {}),
  });
}

function commandArgv(command: SandboxCommand['command']): string[] {
  return typeof command === 'string' ? ['sh', '-c', command] : command.argv;
}

/**
 * How the command really ended. An exit code above 128 is not a signal by itself: npm exits 254
 * when package.json is missing. Sandboxed, the init reports the truth on its status pipe (a
 * signal it saw, or the exit code); unsandboxed, Node reports the signal itself.
 */
export function commandOutcome(
  result: { code: number | null; signal: NodeJS.Signals | null; sideChannel: string },
  sandboxed: boolean,
): { code: number | null; signal: string | null } {
  if (result.signal !== null) return { code: null, signal: result.signal };
  if (sandboxed) {
    try {
      const status = JSON.parse(result.sideChannel) as { code?: unknown; signal?: unknown };
      if (typeof status.signal === 'string' && /^SIG[A-Z0-9]+$/.test(status.signal))
        return { code: null, signal: status.signal };
      if (typeof status.code === 'number') return { code: status.code, signal: null };
    } catch {
      // no status: the init itself failed to start; fall back to the exit code
    }
  }
  return { code: result.code, signal: null };
}

/**
 * Names a limit only when the evidence says it was hit: SIGXCPU is what RLIMIT_CPU sends, and
 * RLIMIT_AS shows up as a failed allocation in the output, which the process then aborts on.
 */
export function signalHint(signal: string, limits: SandboxLimits, tail: readonly string[]): string {
  if (signal === 'SIGXCPU')
    return `: it used up the CPU limit of ${limits.cpuSeconds}s per process (BUILD_CPU_SECONDS)`;
  const outOfMemory = tail.some((l) =>
    /out of memory|Cannot allocate memory|Allocation failed|ENOMEM/i.test(l),
  );
  if (outOfMemory && ['SIGABRT', 'SIGTRAP', 'SIGSEGV', 'SIGKILL', 'SIGBUS'].includes(signal))
    return `: an allocation failed, which the memory limit of ${limits.memoryMb} MB per process (BUILD_MEMORY_MB) causes`;
  return '';
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

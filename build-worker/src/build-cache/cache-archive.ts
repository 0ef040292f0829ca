import { accessSync, constants } from 'node:fs';
import { lstat, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { runProcess } from '../run-process.js';

export type Compression = 'zst' | 'gz';

/** zstd when the worker has it (several times faster than gzip at a similar ratio), else gzip. */
export function archiveCompression(): Compression {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    try {
      accessSync(join(dir, 'zstd'), constants.X_OK);
      return 'zst';
    } catch {
      // not here
    }
  }
  return 'gz';
}

const tarEnv = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' });

/**
 * Only paths whose every component below `base` is a real directory (or, last, a real directory
 * or file) are archived. A build can leave `.next` as a symlink to /etc; the worker runs tar
 * outside the sandbox, and tar resolves a member's leading components, so such a path would
 * archive host files into a cache the next build reads.
 */
export async function safeExistingPath(base: string, relative: string): Promise<boolean> {
  const parts = relative.split('/').filter(Boolean);
  let current = base;
  for (const part of parts) {
    if (part === '..' || part === '.') return false;
    current = join(current, part);
    try {
      const s = await lstat(current);
      if (s.isSymbolicLink()) return false;
    } catch {
      return false;
    }
  }
  return parts.length > 0;
}

/**
 * `tar --create` of `paths` (relative to `base`) into `file`, as an argument array. Symlinks
 * inside are stored as links, never followed. Returns the archive's size.
 */
export async function createArchive(
  base: string,
  paths: string[],
  file: string,
  compression: Compression,
  exclude: string[] = [],
): Promise<number> {
  // Member names come from a NUL-separated list, read verbatim: a shard can name a thousand
  // packages, and a name the build chose (a leading '-', a newline) stays a name.
  const list = `${file}.list`;
  await writeFile(list, paths.map((p) => `${p}\0`).join(''));
  const args = [
    '--create',
    '--file',
    file,
    compression === 'zst' ? '--zstd' : '--gzip',
    '--directory',
    base,
    ...exclude.map((pattern) => `--exclude=${pattern}`),
    '--null',
    '--verbatim-files-from',
    '--files-from',
    list,
  ];
  const result = await runProcess('tar', args, { env: tarEnv() });
  await rm(list, { force: true });
  // 1 is "some files changed as we read them", which a cache can live with.
  if (result.code !== 0 && result.code !== 1) {
    throw new Error(`tar --create failed (exit ${result.code ?? result.signal}): ${result.tail.join(' | ')}`);
  }
  return (await stat(file)).size;
}

/**
 * `tar --extract` into an empty staging directory. Owners and modes of the archive are not
 * applied (the files belong to the worker's user, which the sandbox maps to its builder), and
 * GNU tar refuses absolute and `..` member names and defers symlinks that point outside.
 */
export async function extractArchive(file: string, dest: string, compression: Compression): Promise<void> {
  const result = await runProcess(
    'tar',
    [
      '--extract',
      '--file',
      file,
      compression === 'zst' ? '--zstd' : '--gzip',
      '--directory',
      dest,
      '--no-same-owner',
      '--no-same-permissions',
      '--no-overwrite-dir',
    ],
    { env: tarEnv() },
  );
  if (result.code !== 0) {
    throw new Error(
      `the archive is corrupt or incomplete (tar exit ${result.code ?? result.signal}): ${result.tail.slice(-3).join(' | ')}`,
    );
  }
}

/**
 * Splits node_modules directories into `count` member lists (packages round-robin, a scope's
 * packages one by one), so a restore extracts them in parallel: creating files is what a warm
 * install costs (CPU time in the kernel), and two tar processes create them almost twice as fast
 * on two cores.
 */
export async function shardMembers(base: string, dirs: string[], count: number): Promise<string[][]> {
  const entries: string[] = [];
  for (const dir of dirs) {
    for (const entry of await readdir(join(base, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory() && entry.name.startsWith('@')) {
        for (const scoped of await readdir(join(base, path))) entries.push(`${path}/${scoped}`);
      } else {
        entries.push(path);
      }
    }
  }
  const shards: string[][] = Array.from({ length: count }, () => []);
  entries.sort().forEach((e, i) => shards[i % count]!.push(e));
  return shards.filter((s) => s.length > 0);
}

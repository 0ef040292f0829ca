import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readlink, realpath, rename, rm } from 'node:fs/promises';
import { join, posix, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  MAX_SOURCE_ARCHIVE_FILES,
  MAX_SOURCE_EXTRACTED_BYTES,
  type BuildSource,
} from '@deploysphere/contracts';
import { list, extract, type ReadEntry } from 'tar';
import { BuildError } from './build-error.js';
import type { LogSink } from './log-sink.js';
import {
  runInSandbox,
  SANDBOX_HOME,
  SANDBOX_WORKSPACE,
  type SandboxLimits,
  type SandboxMode,
} from './sandbox.js';

/** What an archive may hold: regular files, folders, and symlinks that stay inside it. */
const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink']);

export interface SourceArchiveLimits {
  maxFiles: number;
  maxBytes: number;
}

export const DEFAULT_SOURCE_LIMITS: SourceArchiveLimits = {
  maxFiles: MAX_SOURCE_ARCHIVE_FILES,
  maxBytes: MAX_SOURCE_EXTRACTED_BYTES,
};

/** Extraction inside bubblewrap: the same sandbox as the build's commands, with no network. */
export interface SourceSandbox {
  mode: Extract<SandboxMode, { kind: 'bwrap' }>;
  /** The build's home (bound at SANDBOX_HOME): the archive waits there while tar reads it. */
  homeDir: string;
  limits: SandboxLimits;
}

export interface FetchSourceOptions {
  source: Extract<BuildSource, { kind: 'archive' }>;
  /** The checkout directory; created here, and the only place anything is written. */
  dest: string;
  /** Where the downloaded archive is kept while it is checked and extracted (removed after). */
  scratchDir: string;
  logs: LogSink;
  signal?: AbortSignal | undefined;
  limits?: SourceArchiveLimits;
  /** Absent: extracted in the worker's process (node-tar), for the sandbox modes without bwrap. */
  sandbox?: SourceSandbox | undefined;
}

const refuse = (message: string, cause?: unknown) =>
  new BuildError('invalid_input', `Source archive refused: ${message}`, { phase: 'clone', cause });

/**
 * A CLI source deploy's checkout (docs/cli.md, "Trust boundary"): the archive is fetched with
 * the presigned GET the control plane signed, checked against the sha256 and size it declared at
 * upload (s3rver enforces no checksum, and a worker must not trust storage for it either), then
 * extracted into the checkout. The archive is hostile input; it is refused as a whole, with the
 * entry named, when any entry is not a plain file, folder or symlink (hard links, devices,
 * FIFOs), has an absolute path, a `..` segment or a backslash, lies below a symlink of the
 * archive, or is a symlink whose target leaves the checkout; or when it holds more entries or
 * bytes than the limits. Extraction then runs inside bubblewrap (GNU tar, as the build's own
 * commands run: only the checkout and the build's home are writable), or, in the sandbox modes
 * without it, in-process with node-tar and the same rules as a filter (node-tar also refuses to
 * write through symlinks). Should GNU tar read a header otherwise than node-tar did (a parser
 * differential), it still refuses `..` members and strips leading slashes itself, inside the
 * sandbox. Ownership is never the archive's, and setuid/setgid bits are dropped. A last walk
 * resolves every symlink with realpath: a chain that ends outside the checkout refuses the
 * archive too.
 */
export async function fetchSourceArchive(
  opts: FetchSourceOptions,
): Promise<{ bytes: number; entries: number; extractedBytes: number }> {
  const limits = opts.limits ?? DEFAULT_SOURCE_LIMITS;
  await mkdir(opts.scratchDir, { recursive: true });
  const file = join(opts.scratchDir, 'source.tar.gz');
  try {
    const bytes = await download(opts.source, file, opts.signal);
    const { entries, extractedBytes } = await checkEntries(file, limits);
    await mkdir(opts.dest, { recursive: true });
    if (opts.sandbox) await extractInSandbox(file, opts.dest, opts.sandbox, opts.logs, opts.signal);
    else {
      await extract({
        file,
        cwd: opts.dest,
        strict: true,
        preserveOwner: false,
        preservePaths: false,
        filter: (path, entry) => problemOf(entry as ReadEntry, new Set()) === null && path !== '',
      });
    }
    await checkTree(opts.dest);
    opts.logs.write(
      'system',
      `Source: archive ${opts.source.sha256.slice(0, 12)} uploaded with the CLI (${bytes} bytes, ${entries} entries, ${extractedBytes} bytes extracted ${opts.sandbox ? 'in the sandbox' : 'by the worker'})`,
    );
    return { bytes, entries, extractedBytes };
  } finally {
    await rm(file, { force: true });
  }
}

/** The archive's name in the build's home while tar reads it inside the sandbox. */
const SANDBOX_ARCHIVE = '.deploysphere-source.tar.gz';

/**
 * GNU tar inside bubblewrap, as the build's commands run: it sees the checkout (/workspace) and
 * the home, nothing of the worker's, and no network. The headers were checked already; this makes
 * a mistake in those checks (or in a parser) unable to write anywhere the build itself could not.
 */
export async function extractInSandbox(
  file: string,
  dest: string,
  sandbox: SourceSandbox,
  logs: LogSink,
  signal?: AbortSignal,
): Promise<void> {
  const inHome = join(sandbox.homeDir, SANDBOX_ARCHIVE);
  await rename(file, inHome);
  try {
    await runInSandbox({
      command: {
        argv: [
          'tar',
          '--extract',
          '--gzip',
          '--file',
          posix.join(SANDBOX_HOME, SANDBOX_ARCHIVE),
          '--directory',
          SANDBOX_WORKSPACE,
          '--no-same-owner',
          '--no-same-permissions',
          '--no-overwrite-dir',
        ],
      },
      checkoutDir: dest,
      homeDir: sandbox.homeDir,
      workdir: '',
      env: {},
      limits: sandbox.limits,
      logs,
      signal,
      mode: sandbox.mode,
      label: 'source extraction',
    });
  } finally {
    await rm(inHome, { force: true });
  }
}

/** GETs the archive into `file`, hashing as it goes; more bytes than declared stop the download. */
async function download(
  source: FetchSourceOptions['source'],
  file: string,
  signal?: AbortSignal,
): Promise<number> {
  let res: Response;
  try {
    res = await fetch(source.get.url, { headers: source.get.headers, ...(signal ? { signal } : {}) });
  } catch (err) {
    throw new BuildError(
      'clone_failed',
      `The source archive could not be fetched: ${(err as Error).message}`,
      {
        phase: 'clone',
        cause: err,
      },
    );
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new BuildError(
      'clone_failed',
      `The source archive could not be fetched: storage answered ${res.status}`,
      {
        phase: 'clone',
      },
    );
  }
  const hash = createHash('sha256');
  let size = 0;
  const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    size += chunk.length;
    hash.update(chunk);
    if (size > source.size)
      body.destroy(refuse(`it is larger than the ${source.size} bytes declared at upload`));
  });
  try {
    await pipeline(body, createWriteStream(file));
  } catch (err) {
    if (err instanceof BuildError) throw err;
    throw new BuildError(
      'clone_failed',
      `The source archive could not be fetched: ${(err as Error).message}`,
      {
        phase: 'clone',
        cause: err,
      },
    );
  }
  if (size !== source.size) throw refuse(`it has ${size} bytes, not the ${source.size} declared at upload`);
  const digest = hash.digest('hex');
  if (digest !== source.sha256) {
    throw refuse(`its sha256 is ${digest}, not the ${source.sha256} declared at upload (different bytes)`);
  }
  return size;
}

/** Why an entry is refused, or null. `links`: the archive's symlinks seen so far. */
export function problemOf(
  entry: Pick<ReadEntry, 'path' | 'type' | 'linkpath'>,
  links: Set<string>,
): string | null {
  const raw = entry.path;
  if (!ALLOWED_TYPES.has(entry.type))
    return `${JSON.stringify(raw)} is a ${entry.type}, not a file, folder or symlink`;
  if (raw.includes('\0') || raw.includes('\\')) return `${JSON.stringify(raw)} has a NUL or a backslash`;
  if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw)) return `${JSON.stringify(raw)} is an absolute path`;
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return `${JSON.stringify(raw)} has a ".." segment`;
  const path = segments.join('/');
  for (let i = 1; i < segments.length; i++) {
    if (links.has(segments.slice(0, i).join('/'))) return `${JSON.stringify(raw)} lies below a symlink`;
  }
  if (entry.type === 'SymbolicLink') {
    const target = entry.linkpath ?? '';
    if (target === '' || target.includes('\0')) return `symlink ${JSON.stringify(raw)} has no target`;
    if (target.startsWith('/'))
      return `symlink ${JSON.stringify(raw)} points at an absolute path (${target})`;
    const resolved = posix.normalize(posix.join(posix.dirname(path), target));
    if (resolved === '..' || resolved.startsWith('../'))
      return `symlink ${JSON.stringify(raw)} points outside the folder (${target})`;
  }
  return null;
}

/** Reads every header once before anything is written: the archive is refused as a whole. */
async function checkEntries(
  file: string,
  limits: SourceArchiveLimits,
): Promise<{ entries: number; extractedBytes: number }> {
  const links = new Set<string>();
  let entries = 0;
  let extractedBytes = 0;
  let problem: string | null = null;
  try {
    await list({
      file,
      strict: true,
      onReadEntry: (entry) => {
        if (problem) return;
        entries += 1;
        extractedBytes += entry.size ?? 0;
        problem = problemOf(entry, links);
        if (!problem && entry.type === 'SymbolicLink')
          links.add(
            entry.path
              .split('/')
              .filter((s) => s !== '' && s !== '.')
              .join('/'),
          );
        if (!problem && entries > limits.maxFiles) problem = `more than ${limits.maxFiles} entries`;
        if (!problem && extractedBytes > limits.maxBytes)
          problem = `more than ${limits.maxBytes} bytes once extracted`;
      },
    });
  } catch (err) {
    throw refuse(`it is not a readable gzipped tar (${(err as Error).message})`, err);
  }
  if (problem) throw refuse(problem);
  if (entries === 0) throw refuse('it is empty');
  return { entries, extractedBytes };
}

/**
 * After extraction: every symlink resolves inside the checkout (a chain of links that each look
 * fine alone may not), and no file keeps a setuid or setgid bit.
 */
async function checkTree(root: string): Promise<void> {
  const realRoot = await realpath(root);
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + sep);
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const abs = join(dir, name);
      const info = await lstat(abs);
      if (info.isSymbolicLink()) {
        const shown = relative(root, abs);
        const target = resolve(await realpath(dir), await readlink(abs));
        if (!inside(target)) throw refuse(`symlink ${JSON.stringify(shown)} resolves outside the folder`);
        const real = await realpath(abs).catch(() => null);
        if (real !== null && !inside(real))
          throw refuse(`symlink ${JSON.stringify(shown)} resolves outside the folder`);
      } else if (info.isDirectory()) {
        await walk(abs);
      } else if (info.mode & 0o6000) {
        await chmod(abs, info.mode & 0o777);
      }
    }
  };
  await walk(root);
}

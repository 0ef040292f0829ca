import { lstat, opendir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { MAX_SITE_FILE_BYTES, SitePathSchema } from '@deploysphere/contracts';
import { BuildError } from './build-error.js';
import type { LogSink } from './log-sink.js';

/** Where frameworks put their output, in the order we look for it. */
export const OUTPUT_DIR_CANDIDATES = [
  'dist',
  'build',
  'out',
  '.output/public',
  'public',
  '_site',
  'www',
  'site',
  'storybook-static',
  'dist/client',
] as const;

/** Files read as site rules, never served. */
export const SITE_RULE_FILES = ['_redirects', '_headers'] as const;

/** Skipped when the output is the project directory itself. */
const SKIPPED_AT_PROJECT_ROOT = new Set(['.git', 'node_modules']);

export interface OutputDir {
  /** Absolute, symlink-free path on the worker. */
  absolute: string;
  /** Relative to the project directory, POSIX separators ('.' for the project directory). */
  relative: string;
}

export interface OutputFile {
  /** Site path: relative, POSIX separators. */
  path: string;
  /** The real file on disk (symlinks resolved, always inside the checkout). */
  absolutePath: string;
  size: number;
}

export interface OutputLimits {
  maxBytes: number;
  maxFiles: number;
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** A user-supplied relative path: no absolute paths, no '..', no NUL. */
export function assertRelativePath(value: string, what: string): void {
  const parts = value.split(/[\\/]/);
  if (isAbsolute(value) || value.includes('\0') || parts.includes('..')) {
    throw new BuildError(
      'invalid_input',
      `${what} must be a relative path inside the repository, got ${JSON.stringify(value)}`,
    );
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds the output directory: the explicit one when given, else the first candidate holding an
 * index.html, else the first candidate that exists. Whatever is chosen must resolve (symlinks
 * included) to a directory inside the checkout.
 */
export async function detectOutputDir(
  checkoutDir: string,
  projectDir: string,
  explicit: string | null,
): Promise<OutputDir> {
  const checkoutReal = await realpath(checkoutDir);
  const resolveInside = async (rel: string): Promise<OutputDir> => {
    const real = await realpath(join(projectDir, rel));
    if (!isInside(checkoutReal, real)) {
      throw new BuildError(
        'output_missing',
        `Output directory ${JSON.stringify(rel)} resolves outside the repository`,
        {
          phase: 'build',
        },
      );
    }
    return { absolute: real, relative: rel };
  };

  if (explicit !== null && explicit !== '') {
    assertRelativePath(explicit, 'outputDir');
    const normalized =
      explicit
        .replace(/\\/g, '/')
        .replace(/^\.\/+/, '')
        .replace(/\/+$/, '') || '.';
    if (!(await isDirectory(join(projectDir, normalized)))) {
      throw new BuildError(
        'output_missing',
        `The output directory "${normalized}" does not exist after the build. Check the build command and outputDir.`,
        { phase: 'build' },
      );
    }
    return resolveInside(normalized);
  }

  const existing: string[] = [];
  for (const candidate of OUTPUT_DIR_CANDIDATES) {
    if (await isDirectory(join(projectDir, candidate))) existing.push(candidate);
  }
  for (const candidate of existing) {
    if (await isFile(join(projectDir, candidate, 'index.html'))) return resolveInside(candidate);
  }
  if (existing[0] !== undefined) return resolveInside(existing[0]);
  throw new BuildError(
    'output_missing',
    `No output directory found after the build (looked for ${OUTPUT_DIR_CANDIDATES.join(', ')}). Set outputDir on the project.`,
    { phase: 'build' },
  );
}

/**
 * Lists every file to publish under the output directory. Symlinks are followed only when they
 * resolve to a regular file inside the checkout; anything else (escapes, directories, sockets,
 * devices, names a URL path cannot carry) is skipped with a system log line. Limits are enforced
 * while walking, so an enormous output fails fast.
 */
export async function collectOutputFiles(
  checkoutDir: string,
  output: OutputDir,
  limits: OutputLimits,
  logs: LogSink,
): Promise<OutputFile[]> {
  const checkoutReal = await realpath(checkoutDir);
  const files: OutputFile[] = [];
  let totalBytes = 0;
  const atProjectRoot = output.relative === '.';

  const add = (path: string, absolutePath: string, size: number) => {
    if (size > MAX_SITE_FILE_BYTES) {
      throw new BuildError(
        'output_too_large',
        `${path} is ${size} bytes; a site's files may be at most ${MAX_SITE_FILE_BYTES} bytes (25 MiB). Split it, or serve it from elsewhere.`,
        { phase: 'upload' },
      );
    }
    files.push({ path, absolutePath, size });
    totalBytes += size;
    if (files.length > limits.maxFiles) {
      throw new BuildError(
        'output_too_large',
        `The output has more than ${limits.maxFiles} files (MAX_OUTPUT_FILES). Reduce the number of files.`,
        { phase: 'upload' },
      );
    }
    if (totalBytes > limits.maxBytes) {
      throw new BuildError(
        'output_too_large',
        `The output is larger than ${limits.maxBytes} bytes (MAX_OUTPUT_BYTES). Reduce its size.`,
        { phase: 'upload' },
      );
    }
  };

  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = [];
    for await (const entry of await opendir(dir)) entries.push(entry.name);
    entries.sort();
    for (const name of entries) {
      const sitePath = prefix ? `${prefix}/${name}` : name;
      const full = join(dir, name);
      if (prefix === '' && atProjectRoot && SKIPPED_AT_PROJECT_ROOT.has(name)) continue;
      if (prefix === '' && (SITE_RULE_FILES as readonly string[]).includes(name)) continue;
      if (!SitePathSchema.safeParse(sitePath).success) {
        logs.write('system', `Skipping ${JSON.stringify(sitePath)}: not a valid site path`);
        continue;
      }
      const info = await lstat(full);
      if (info.isDirectory()) {
        await walk(full, sitePath);
      } else if (info.isFile()) {
        add(sitePath, full, info.size);
      } else if (info.isSymbolicLink()) {
        let target: string;
        try {
          target = await realpath(full);
        } catch {
          logs.write('system', `Skipping ${sitePath}: broken symlink`);
          continue;
        }
        if (!isInside(checkoutReal, target)) {
          logs.write('system', `Skipping ${sitePath}: symlink points outside the repository`);
          continue;
        }
        const targetInfo = await stat(target);
        if (!targetInfo.isFile()) {
          logs.write('system', `Skipping ${sitePath}: symlink to something other than a file`);
          continue;
        }
        add(sitePath, target, targetInfo.size);
      } else {
        logs.write('system', `Skipping ${sitePath}: not a regular file`);
      }
    }
  };

  if (!isInside(checkoutReal, output.absolute)) {
    throw new BuildError('output_missing', 'The output directory resolves outside the repository', {
      phase: 'build',
    });
  }
  await walk(output.absolute, '');
  if (files.length === 0) {
    throw new BuildError('output_missing', `The output directory "${output.relative}" is empty`, {
      phase: 'build',
    });
  }
  return files;
}

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import {
  MAX_SOURCE_ARCHIVE_BYTES,
  MAX_SOURCE_ARCHIVE_FILES,
  MAX_SOURCE_EXTRACTED_BYTES,
} from '@deploysphere/contracts';
import ignore, { type Ignore } from 'ignore';
import { create } from 'tar';
import { CliError } from './errors.js';
import { LINK_DIR } from './folder.js';
import type { Output } from './output.js';

/** Never uploaded, at any depth, whatever the ignore files say. */
const ALWAYS_EXCLUDED = new Set(['.git', LINK_DIR, 'node_modules']);
/** The CLI's own ignore file, at the folder's top; read after the .gitignore files (it wins). */
export const DEPLOYSPHERE_IGNORE = '.deploysphereignore';

export interface SourceListing {
  root: string;
  /** Folder-relative paths (POSIX), files and symlinks, sorted. */
  paths: string[];
  /** Bytes of the files listed (symlinks count 0). */
  bytes: number;
  /** Symlinks left out because their target leaves the folder. */
  skippedLinks: string[];
}

export interface SourceLimits {
  maxFiles: number;
  maxArchiveBytes: number;
}

export const SOURCE_LIMITS: SourceLimits = {
  maxFiles: MAX_SOURCE_ARCHIVE_FILES,
  maxArchiveBytes: MAX_SOURCE_ARCHIVE_BYTES,
};

/** One ignore file's rules, relative to the folder it sits in ('' for the top). */
interface Rules {
  base: string;
  ig: Ignore;
}

async function rulesAt(root: string, base: string, name: string): Promise<Rules | undefined> {
  const text = await readFile(join(root, base, name), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : { base, ig: ignore().add(text) };
}

/**
 * Whether `path` is ignored, as `git check-ignore` decides: every .gitignore from the top down
 * to the path's own folder is asked, the deepest that has an opinion wins (a nested `!pattern`
 * re-includes what a parent excluded), and `.deploysphereignore` has the last word.
 */
function ignored(stack: readonly Rules[], path: string, isDir: boolean): boolean {
  let verdict = false;
  for (const r of stack) {
    const rel = r.base === '' ? path : path.slice(r.base.length + 1);
    const t = r.ig.test(isDir ? `${rel}/` : rel);
    if (t.ignored) verdict = true;
    else if (t.unignored) verdict = false;
  }
  return verdict;
}

/**
 * Lists a source folder for upload (docs/cli.md, "A source deploy"): regular files and symlinks
 * whose target stays inside the folder, minus `.git/`, `.deploysphere/` and `node_modules/` at
 * any depth, minus what the .gitignore files (the top one and nested ones, with negations) and
 * `.deploysphereignore` exclude. As in Git, a folder that is ignored is not entered, so nothing
 * inside it can be re-included; empty folders are not kept.
 */
export async function listSource(dir: string, limits: SourceLimits = SOURCE_LIMITS): Promise<SourceListing> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw CliError.usage(`${dir} is not a folder`);
  const own = await rulesAt(root, '', DEPLOYSPHERE_IGNORE);
  const paths: string[] = [];
  const skippedLinks: string[] = [];
  let bytes = 0;

  const walk = async (rel: string, stack: Rules[]): Promise<void> => {
    const here = await rulesAt(root, rel, '.gitignore');
    const rules = here ? [...stack, here] : stack;
    const all = own ? [...rules, own] : rules;
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      if (ALWAYS_EXCLUDED.has(name)) continue;
      const path = rel === '' ? name : `${rel}/${name}`;
      const abs = join(root, path);
      const st = await lstat(abs);
      if (st.isDirectory()) {
        if (!ignored(all, path, true)) await walk(path, rules);
        continue;
      }
      if (ignored(all, path, false)) continue;
      if (st.isSymbolicLink()) {
        // The build worker refuses an archive with a link out of the folder: leave it out here.
        const target = await readlink(abs);
        const to = posix.normalize(posix.join(posix.dirname(path), target));
        if (target.startsWith('/') || to === '..' || to.startsWith('../')) {
          skippedLinks.push(path);
          continue;
        }
      } else if (!st.isFile()) {
        continue; // sockets, FIFOs, devices: nothing a build can use
      } else {
        bytes += st.size;
      }
      paths.push(path);
      if (paths.length > limits.maxFiles) {
        throw CliError.usage(
          `${dir} has more than ${limits.maxFiles} files to upload; list what the build does not need in ${DEPLOYSPHERE_IGNORE}`,
        );
      }
    }
  };
  await walk('', []);
  // The worker stops extracting beyond this: say so now rather than after packing and uploading.
  if (bytes > MAX_SOURCE_EXTRACTED_BYTES) {
    throw CliError.usage(
      `${dir} has ${bytes} bytes to upload, more than the ${MAX_SOURCE_EXTRACTED_BYTES} a build may extract; list what the build does not need in ${DEPLOYSPHERE_IGNORE}`,
    );
  }
  return { root, paths, bytes, skippedLinks };
}

export interface PackedSource {
  file: string;
  sha256: string;
  size: number;
  files: number;
}

/**
 * Packs the listing into a gzipped tar at `file`, in-process (node-tar: no shell, no system tar),
 * with portable headers (no owner names, uid or mtime noise), symlinks kept as symlinks.
 */
export async function packSource(
  listing: SourceListing,
  file: string,
  out: Output,
  limits: SourceLimits = SOURCE_LIMITS,
): Promise<PackedSource> {
  out.info(`Packing ${listing.paths.length} files…`);
  await create(
    { gzip: true, cwd: listing.root, file, portable: true, follow: false, noDirRecurse: true },
    listing.paths,
  );
  const size = (await stat(file)).size;
  if (size > limits.maxArchiveBytes) {
    throw CliError.usage(
      `The source archive is ${size} bytes, more than the limit of ${limits.maxArchiveBytes}; list what the build does not need in ${DEPLOYSPHERE_IGNORE}`,
    );
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return { file, sha256: hash.digest('hex'), size, files: listing.paths.length };
}

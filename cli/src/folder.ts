import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { mapLimit } from '@deploysphere/build-worker/concurrency';
import { collectOutputFiles } from '@deploysphere/build-worker/output-dir';
import { parseHeaders, parseRedirects } from '@deploysphere/build-worker/site-rules';
import { contentTypeFor, sha256File, type HashedFile } from '@deploysphere/build-worker/upload';
import type { CliDeployFile, HeaderRule, RedirectRule } from '@deploysphere/contracts';
import { CliError } from './errors.js';
import type { Output } from './output.js';

/** The folder's link to its project; it is never uploaded. */
export const LINK_DIR = '.deploysphere';

export interface HashedFolder {
  root: string;
  files: HashedFile[];
  redirects: RedirectRule[];
  headers: HeaderRule[];
  bytes: number;
}

/** No limit here: the control plane holds the platform's limits and answers with them. */
const NO_LIMIT = { maxFiles: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER };

/**
 * Lists a prebuilt folder as the build worker lists a build's output (the same code): symlinks
 * only within the folder, `.git` and `node_modules` at the top skipped, `_redirects` and
 * `_headers` read as rules, not served. `.deploysphere/` is skipped too. Then hashes every file.
 */
export async function hashFolder(dir: string, out: Output, concurrency = 8): Promise<HashedFolder> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw CliError.usage(`${dir} is not a folder`);
  const sink = { write: (_stream: string, line: string) => out.info(line) };
  let listed;
  try {
    listed = await collectOutputFiles(root, { absolute: root, relative: '.' }, NO_LIMIT, sink);
  } catch (err) {
    throw CliError.usage((err as Error).message);
  }
  const entries = listed.filter((f) => f.path !== LINK_DIR && !f.path.startsWith(`${LINK_DIR}/`));
  let hashed = 0;
  let bytes = 0;
  const files = await mapLimit(entries, concurrency, async (f) => {
    const hash = await sha256File(f.absolutePath);
    hashed += 1;
    bytes += f.size;
    out.progress('Hashing', hashed, entries.length, ' files');
    return { ...f, hash, contentType: contentTypeFor(f.path) };
  });
  const rules = async <T>(name: string, parse: (text: string, report: (m: string) => void) => T[]) => {
    const text = await readFile(join(root, name), 'utf8').catch(() => undefined);
    return text === undefined ? [] : parse(text, (m) => out.info(`warning: ${m}`));
  };
  return {
    root,
    files,
    redirects: await rules('_redirects', parseRedirects),
    headers: await rules('_headers', parseHeaders),
    bytes,
  };
}

/** The manifest's `files`, as the API takes it. */
export function manifestFiles(files: HashedFile[]): Record<string, CliDeployFile> {
  const out: Record<string, CliDeployFile> = {};
  for (const f of files) out[f.path] = { hash: f.hash, size: f.size, contentType: f.contentType };
  return out;
}

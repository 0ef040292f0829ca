import { MAX_SITE_FILE_BYTES, SitePathSchema, type CliDeployFile } from '@deploysphere/contracts';
import { contentTypeFor } from '@deploysphere/build-worker/content-type';

/**
 * The "Deploy a folder" drop's listing rules: exactly what `deploysphere deploy --prebuilt` uploads
 * from the same folder (cli/src/folder.ts, which lists with the build worker's
 * `collectOutputFiles`). Those read the disk with node:fs, which a browser does not have, so the
 * rules are restated here over the paths a drop gives; folder-listing.test.ts runs the CLI's own
 * listing and hashing on a folder and checks that this module agrees file by file.
 *
 * - At the top: `.git` and `node_modules` (the folder is the project directory) and
 *   `.deploysphere/` (the CLI's project link) are skipped; `_redirects` and `_headers` are read as
 *   rules, never served.
 * - Anything a site path cannot carry (backslashes, NUL, over 1,024 characters) is skipped and
 *   reported. Dotfiles elsewhere are uploaded, as the CLI uploads them.
 * - A file over 25 MiB refuses the whole folder, as the CLI refuses it.
 */

/** The CLI's link to its project, never uploaded. */
export const LINK_DIR = '.deploysphere';
const SKIPPED_AT_ROOT = new Set(['.git', 'node_modules', LINK_DIR]);
export const SITE_RULE_FILES = ['_redirects', '_headers'] as const;
export type SiteRuleFile = (typeof SITE_RULE_FILES)[number];

/** One file of the dropped folder: its path relative to the folder, POSIX separators. */
export interface DroppedFile<F> {
  path: string;
  file: F;
}

export interface FolderListing<F> {
  /** Sorted by path. */
  files: (DroppedFile<F> & { size: number; contentType: string })[];
  rules: Partial<Record<SiteRuleFile, F>>;
  /** Paths skipped because no site path can carry them, with why. */
  skipped: string[];
  /** Files over the platform's per-file limit: the folder cannot be deployed. */
  tooLarge: { path: string; size: number }[];
  bytes: number;
}

export function listFolder<F extends { size: number }>(dropped: readonly DroppedFile<F>[]): FolderListing<F> {
  const listing: FolderListing<F> = { files: [], rules: {}, skipped: [], tooLarge: [], bytes: 0 };
  for (const entry of dropped) {
    const [top] = entry.path.split('/');
    if (top === undefined || SKIPPED_AT_ROOT.has(top)) continue;
    // The CLI skips these names at the top whatever they are; a folder of that name too.
    if ((SITE_RULE_FILES as readonly string[]).includes(top)) {
      if (entry.path === top) listing.rules[top as SiteRuleFile] = entry.file;
      continue;
    }
    if (!SitePathSchema.safeParse(entry.path).success) {
      listing.skipped.push(`${JSON.stringify(entry.path)}: not a valid site path`);
      continue;
    }
    const size = entry.file.size;
    if (size > MAX_SITE_FILE_BYTES) listing.tooLarge.push({ path: entry.path, size });
    listing.files.push({ ...entry, size, contentType: contentTypeFor(entry.path) });
    listing.bytes += size;
  }
  listing.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return listing;
}

/** sha256 of the bytes, lowercase hex: the blob's name (contracts' `BlobHashSchema`). */
export async function sha256Hex(blob: Pick<Blob, 'arrayBuffer'>): Promise<string> {
  // A view, not the buffer: jsdom's tests hand Web Crypto an ArrayBuffer of another realm.
  const digest = await crypto.subtle.digest('SHA-256', new Uint8Array(await blob.arrayBuffer()));
  let hex = '';
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** The manifest's `files`, as `POST /cli-deploys` takes them. */
export function manifestFiles(
  files: readonly { path: string; size: number; contentType: string; hash: string }[],
): Record<string, CliDeployFile> {
  const out: Record<string, CliDeployFile> = {};
  for (const f of files) out[f.path] = { hash: f.hash, size: f.size, contentType: f.contentType };
  return out;
}

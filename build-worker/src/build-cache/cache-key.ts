import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CacheKeyInput {
  /** The lockfile, relative to the checkout; null when the project has none. */
  lockfile: string | null;
  packageManager: string | null;
  /** Where the project is in the repository: a cache of one rootDir is no use to another. */
  workdir: string;
}

/**
 * The exact-match key: lockfile content, package manager, Node version and platform. Native
 * addons in node_modules are built for one Node ABI and one platform, so any difference there
 * means node_modules cannot be reused, only the package manager's cache. Without a lockfile
 * the key is still computed (for the branch index) but never allows node_modules.
 */
export async function cacheKey(
  checkoutDir: string,
  input: CacheKeyInput,
): Promise<{ key: string; exactAllowed: boolean }> {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      v: 1,
      node: process.versions.node,
      abi: process.versions.modules,
      platform: `${process.platform}-${process.arch}`,
      packageManager: input.packageManager,
      workdir: input.workdir,
      lockfile: input.lockfile,
    }),
  );
  let exactAllowed = false;
  if (input.lockfile) {
    try {
      hash.update(await readFile(join(checkoutDir, input.lockfile)));
      exactAllowed = true;
    } catch {
      // unreadable: no exact match
    }
  }
  return { key: hash.digest('hex'), exactAllowed };
}

import { createHash } from 'node:crypto';
import type { CachePart, CacheCompression } from '@deploysphere/contracts';

/**
 * Where a project's build cache lives, in the primary region's bucket, beside the blobs:
 *
 *   cache/<project>/<key>/home.tar.<zst|gz>     the package manager's cache and tools (the build's home)
 *   cache/<project>/<key>/caches.tar.<zst|gz>   framework caches
 *   cache/<project>/<key>/modules.tar.<zst|gz>  node_modules (and modules-1, …), on an exact key match only
 *   cache/<project>/<key>/meta.json             written last: a key without it is incomplete
 *   cache/<project>/branches/<sha256(branch)>.json  the branch's newest key
 *
 * The control plane signs requests for these keys (the build holds no S3 credentials); the names
 * are defined once, here.
 */
export const cachePrefix = (project: string) => `cache/${project}/`;
export const metaKey = (project: string, key: string) => `cache/${project}/${key}/meta.json`;
export const archiveKey = (project: string, key: string, part: CachePart, c: CacheCompression) =>
  `cache/${project}/${key}/${part}.tar.${c}`;
export const branchIndexKey = (project: string, branch: string) =>
  `cache/${project}/branches/${createHash('sha256').update(branch).digest('hex').slice(0, 32)}.json`;

/** node_modules' archives of a cache saved in `count` shards: 'modules', 'modules-1', … */
export function modulePartNames(count: number): CachePart[] {
  return Array.from({ length: count }, (_, i): CachePart => (i === 0 ? 'modules' : `modules-${i}`));
}

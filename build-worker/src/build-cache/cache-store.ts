import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  BuildCacheMetaSchema,
  type BuildCacheMeta,
  type CacheSaveResponse,
  type PresignedRequest,
} from '@deploysphere/contracts';
import { downloadPresigned, putPresigned } from '../grants/presigned-http.js';

export { archiveKey, branchIndexKey, cachePrefix, metaKey } from './cache-keys.js';
export type { CachePart } from '@deploysphere/contracts';

/** `cache/<project>/<key>/meta.json` (contracts' BuildCacheMetaSchema): the layout is in cache-keys.ts. */
export const CacheMetaSchema = BuildCacheMetaSchema;
export type CacheMeta = BuildCacheMeta;

/**
 * The build cache's reads and writes, each through a presigned request the control plane granted
 * for this build's own project (and, for writes, its own branch). No S3 credentials here.
 */
export const CacheStore = {
  /** Downloads one archive to a file; returns its size. */
  download(grant: PresignedRequest, file: string): Promise<number> {
    return downloadPresigned(grant, file);
  },

  async upload(grant: PresignedRequest, file: string): Promise<void> {
    const size = (await stat(file)).size;
    await putPresigned(grant, () => createReadStream(file), size);
  },

  async putJson(grant: PresignedRequest, value: unknown): Promise<void> {
    const body = Buffer.from(JSON.stringify(value));
    await putPresigned(grant, body, body.length);
  },

  /** The meta goes after the archives, the branch index after the meta: readers never see half a cache. */
  async commit(grant: CacheSaveResponse, meta: CacheMeta): Promise<void> {
    await CacheStore.putJson(grant.meta, meta);
    await CacheStore.putJson(grant.branchIndex, { v: 1, key: meta.key, savedAt: meta.savedAt });
  },
};

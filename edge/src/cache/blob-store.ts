import { blobKey, type EdgeRegion } from '@deploysphere/contracts';
import type { WaitUntil } from '../config/bindings.js';
import { fetchWithFailover, type RegionFailure } from '../origin/failover.js';
import type { RegionHealth } from '../origin/region-health.js';
import type { S3Origin } from '../origin/s3-origin.js';
import { blobCacheKey, type EdgeCache } from './edge-cache.js';
import { MemoryLru } from './memory-lru.js';

export type BlobBody = Uint8Array | ReadableStream<Uint8Array>;

export type BlobLookup =
  | { ok: true; body: BlobBody; region: string; cache: 'hit' | 'miss' }
  | { ok: false; failures: RegionFailure[] };

export interface BlobStoreOptions {
  /** Blobs up to this size are read whole, hash-checked and kept in isolate memory. */
  memoryItemMaxBytes: number;
  memoryTotalMaxBytes: number;
}

export const DEFAULT_BLOB_STORE_OPTIONS: BlobStoreOptions = {
  memoryItemMaxBytes: 512 * 1024,
  memoryTotalMaxBytes: 32 * 1024 * 1024,
};

const REGION_HEADER = 'x-deploysphere-region';

/**
 * File bodies by content hash, which is the same in every region and every deployment: isolate
 * memory for small blobs, then the Cache API, then the regions' buckets with failover. Blobs are
 * immutable, so an entry is valid forever and a promote needs no purge.
 */
export class BlobStore {
  private readonly memory: MemoryLru<{ bytes: Uint8Array; region: string }>;

  constructor(
    private readonly origin: S3Origin,
    private readonly health: RegionHealth,
    private readonly cache: EdgeCache | undefined,
    private readonly options: BlobStoreOptions = DEFAULT_BLOB_STORE_OPTIONS,
  ) {
    this.memory = new MemoryLru(options.memoryTotalMaxBytes, (entry) => entry.bytes.byteLength);
  }

  async get(hash: string, size: number, regions: readonly EdgeRegion[], ctx: WaitUntil): Promise<BlobLookup> {
    const small = size <= this.options.memoryItemMaxBytes;
    const remembered = small ? this.memory.get(hash) : undefined;
    if (remembered) return { ok: true, body: remembered.bytes, region: remembered.region, cache: 'hit' };

    const cached = await this.fromCache(hash);
    if (cached?.body) {
      const region = cached.headers.get(REGION_HEADER) ?? 'cache';
      if (!small) return { ok: true, body: cached.body, region, cache: 'hit' };
      const bytes = new Uint8Array(await cached.arrayBuffer());
      this.memory.set(hash, { bytes, region });
      return { ok: true, body: bytes, region, cache: 'hit' };
    }

    if (small) {
      const result = await fetchWithFailover(
        this.origin,
        this.health,
        regions,
        blobKey(hash),
        async (res) => {
          const bytes = new Uint8Array(await res.arrayBuffer());
          // A region serving other bytes under this key (corruption, a partial upload) fails over.
          return (await sha256Hex(bytes)) === hash ? bytes : undefined;
        },
      );
      if (!result.ok) return result;
      const region = result.region.id;
      this.memory.set(hash, { bytes: result.value, region });
      this.store(hash, result.value, region, ctx);
      return { ok: true, body: result.value, region, cache: 'miss' };
    }

    // Large blobs stream through: one branch to the visitor, one into the cache.
    const result = await fetchWithFailover(this.origin, this.health, regions, blobKey(hash), async (res) =>
      res.body ? res.body : undefined,
    );
    if (!result.ok) return result;
    const region = result.region.id;
    if (!this.cache) return { ok: true, body: result.value, region, cache: 'miss' };
    const [visitor, cacheCopy] = result.value.tee();
    this.store(hash, cacheCopy, region, ctx, size);
    return { ok: true, body: visitor, region, cache: 'miss' };
  }

  private async fromCache(hash: string): Promise<Response | undefined> {
    if (!this.cache) return undefined;
    try {
      return await this.cache.match(blobCacheKey(hash));
    } catch {
      return undefined;
    }
  }

  private store(hash: string, body: BlobBody, region: string, ctx: WaitUntil, size?: number): void {
    if (!this.cache) return;
    const response = new Response(body, {
      headers: {
        'content-type': 'application/octet-stream',
        'cache-control': 'public, max-age=31536000, immutable',
        [REGION_HEADER]: region,
        ...(size === undefined ? {} : { 'content-length': String(size) }),
      },
    });
    // A failed cache write costs a later origin read, never this response.
    ctx.waitUntil(this.cache.put(blobCacheKey(hash), response).catch(() => undefined));
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

import { blobKey, MAX_SITE_FILE_BYTES, type EdgeRegion } from '@deploysphere/contracts';
import type { WaitUntil } from '../config/bindings.js';
import { fetchWithFailover, type RegionFailure } from '../origin/failover.js';
import { readBodyOfSize } from '../origin/read-body.js';
import type { RegionHealth } from '../origin/region-health.js';
import type { S3Origin } from '../origin/s3-origin.js';
import { blobCacheKey, type EdgeCache } from './edge-cache.js';
import { MemoryLru } from './memory-lru.js';
import { verifyBlob, type VerifiedBytes } from './verified-blob.js';

export type BlobBody = Uint8Array | ReadableStream<Uint8Array>;

export type BlobLookup =
  | { ok: true; body: BlobBody; region: string; cache: 'hit' | 'miss' }
  | {
      ok: false;
      failures: RegionFailure[];
      /** Set when the file is larger than the edge verifies, so no region was asked. */
      tooLarge?: true;
    };

export interface BlobStoreOptions {
  /** Blobs up to this size are also kept in isolate memory. */
  memoryItemMaxBytes: number;
  memoryTotalMaxBytes: number;
  /**
   * The largest blob the edge serves. Every blob is read whole and hash-checked before a byte of
   * it leaves the edge, so this also bounds the memory one cache miss holds.
   */
  verifyMaxBytes: number;
}

/** The edge verifies whole files, up to the largest a site may have. */
export const MAX_VERIFIED_BLOB_BYTES = MAX_SITE_FILE_BYTES;

export const DEFAULT_BLOB_STORE_OPTIONS: BlobStoreOptions = {
  memoryItemMaxBytes: 512 * 1024,
  memoryTotalMaxBytes: 32 * 1024 * 1024,
  verifyMaxBytes: MAX_VERIFIED_BLOB_BYTES,
};

/** Told about every region whose bytes did not hash to the key the edge asked for. */
export type IntegrityFailureListener = (failure: { region: string; hash: string }) => void;

const REGION_HEADER = 'x-deploysphere-region';

/**
 * File bodies by content hash, which is the same in every region and every deployment: isolate
 * memory for small blobs, then the Cache API, then the regions' buckets with failover. Blobs are
 * immutable, so an entry is valid forever and a promote needs no purge.
 *
 * A blob read from a region is served only after its bytes hash to its key. Bytes that do not
 * (a corrupted or tampered object) count as a failing region: the next region is tried, and the
 * failure is reported to `onIntegrityFailure`. Both caches hold verified bytes only, so a hit
 * needs no second check.
 */
export class BlobStore {
  private readonly memory: MemoryLru<{ bytes: VerifiedBytes; region: string }>;

  constructor(
    private readonly origin: S3Origin,
    private readonly health: RegionHealth,
    private readonly cache: EdgeCache | undefined,
    private readonly options: BlobStoreOptions = DEFAULT_BLOB_STORE_OPTIONS,
    private readonly onIntegrityFailure: IntegrityFailureListener = () => undefined,
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
      // Entries are only ever written from verified bytes (see `store`).
      const bytes = new Uint8Array(await cached.arrayBuffer()) as VerifiedBytes;
      this.memory.set(hash, { bytes, region });
      return { ok: true, body: bytes, region, cache: 'hit' };
    }

    if (size > this.options.verifyMaxBytes) return { ok: false, failures: [], tooLarge: true };

    const result = await fetchWithFailover(
      this.origin,
      this.health,
      regions,
      blobKey(hash),
      async (res, region) => {
        // Whole, then hashed: nothing is sent or cached before the check passes, whatever the size.
        const bytes = await readBodyOfSize(res, size);
        const verified = bytes && (await verifyBlob(hash, bytes));
        if (!verified) this.onIntegrityFailure({ region: region.id, hash });
        return verified;
      },
    );
    if (!result.ok) return result;
    const region = result.region.id;
    if (small) this.memory.set(hash, { bytes: result.value, region });
    this.store(hash, result.value, region, ctx);
    return { ok: true, body: result.value, region, cache: 'miss' };
  }

  private async fromCache(hash: string): Promise<Response | undefined> {
    if (!this.cache) return undefined;
    try {
      return await this.cache.match(blobCacheKey(hash));
    } catch {
      return undefined;
    }
  }

  /** The one way into the Cache API: it takes verified bytes only. */
  private store(hash: string, bytes: VerifiedBytes, region: string, ctx: WaitUntil): void {
    if (!this.cache) return;
    const response = new Response(bytes, {
      headers: {
        'content-type': 'application/octet-stream',
        'cache-control': 'public, max-age=31536000, immutable',
        'content-length': String(bytes.byteLength),
        [REGION_HEADER]: region,
      },
    });
    // A failed cache write costs a later origin read, never this response.
    ctx.waitUntil(this.cache.put(blobCacheKey(hash), response).catch(() => undefined));
  }
}

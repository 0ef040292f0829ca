import { blobKey } from '@deploysphere/contracts';
import { listPages } from '../infra/bucket-listing.js';
import type { GrantBucket } from './storage-grants.js';

/** blobs/<sha256 hex>: one listing per first hex digit, all sixteen at once. */
export const BLOB_RANGES = '0123456789abcdef'.split('');

/** The sizes of the wanted blobs that a listed range holds, or `undefined` for a range given up on. */
export type ListedBlobs = Map<string, ReadonlyMap<string, number> | undefined>;

/** Where a wanted hash stands after a listing: its size, absent, or not known (HEAD it). */
export function listedSize(listed: ListedBlobs, hash: string): number | 'absent' | 'unknown' {
  const range = listed.get(hash[0]!);
  if (range === undefined) return 'unknown';
  return range.get(hash) ?? 'absent';
}

/**
 * Which of `hashes` the bucket stores, and at what size, found by listing `blobs/` instead of a
 * HEAD per blob: sixteen key ranges (by the hash's first hex digit) are listed in parallel, each
 * up to `pagesPerRange` pages. A range longer than that (a bucket far larger than the set asked
 * about) is given up, and its blobs are left for HEADs. S3 lists with read-after-write
 * consistency, so a blob PUT before this call is seen.
 *
 * Pages come from listPages (ListObjects v1 by Marker: s3rver cannot page v2 listings).
 */
export async function listWantedBlobs(
  b: GrantBucket,
  hashes: readonly string[],
  opts: { pagesPerRange: number; pageKeys?: number },
): Promise<ListedBlobs> {
  const result: ListedBlobs = new Map();
  if (opts.pagesPerRange < 1 || hashes.length === 0) return result;
  const wanted = new Set(hashes);
  const pageKeys = opts.pageKeys ?? 1000;
  await Promise.all(
    BLOB_RANGES.map(async (range) => {
      const prefix = blobKey(range);
      const found = new Map<string, number>();
      let pages = 0;
      for await (const page of listPages(b, prefix, { pageSize: pageKeys })) {
        for (const o of page) {
          const hash = o.key.slice(prefix.length - 1);
          if (wanted.has(hash)) found.set(hash, o.size);
        }
        // A full page at the budget's end may have more behind it: given up, left to HEADs.
        if (++pages >= opts.pagesPerRange && page.length >= pageKeys) {
          result.set(range, undefined);
          return;
        }
      }
      result.set(range, found);
    }),
  );
  return result;
}

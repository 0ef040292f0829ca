import { ListObjectsCommand } from '@aws-sdk/client-s3';
import { blobKey, retryWithBackoff } from '@deploysphere/contracts';
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
 * Pages follow each other by `Marker` (the last key seen), with ListObjects (v1), which S3 keeps
 * answering alike: s3rver answers every truncated ListObjectsV2 page with a continuation token
 * it makes with DES, which Node 20's OpenSSL 3 no longer has, so a v2 listing of more than a
 * page fails on the local platform.
 */
export async function listWantedBlobs(
  b: GrantBucket,
  hashes: readonly string[],
  opts: { pagesPerRange: number; pageKeys?: number },
): Promise<ListedBlobs> {
  const result: ListedBlobs = new Map();
  if (opts.pagesPerRange < 1 || hashes.length === 0) return result;
  const wanted = new Set(hashes);
  await Promise.all(
    BLOB_RANGES.map(async (range) => {
      const prefix = blobKey(range);
      const found = new Map<string, number>();
      let after: string | undefined;
      for (let page = 0; page < opts.pagesPerRange; page++) {
        const res = await retryWithBackoff(
          () =>
            b.client.send(
              new ListObjectsCommand({
                Bucket: b.bucket,
                Prefix: prefix,
                MaxKeys: opts.pageKeys ?? 1000,
                Marker: after,
              }),
            ),
          { attempts: 3, baseDelayMs: 200 },
        );
        for (const o of res.Contents ?? []) {
          if (!o.Key) continue;
          after = o.Key;
          const hash = o.Key.slice(prefix.length - 1);
          if (wanted.has(hash)) found.set(hash, o.Size ?? -1);
        }
        if (!res.IsTruncated) {
          result.set(range, found);
          return;
        }
      }
      result.set(range, undefined);
    }),
  );
  return result;
}

import { ListObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { retryWithBackoff } from '@deploysphere/contracts';

export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
}

const retry = { attempts: 4, baseDelayMs: 250 };

/**
 * Pages of keys under `prefix`, in key order, starting after `startAfter`. Key order is what makes
 * a sweep resumable: the last key handled is the whole cursor. ListObjects (v1) with `Marker`
 * takes exactly that key; v2's continuation tokens are opaque, and s3rver cannot even make one
 * (it encrypts them with DES, which Node 20's OpenSSL 3 refuses), so any truncated v2 listing
 * fails there.
 */
export async function* listPages(
  b: { client: S3Client; bucket: string },
  prefix: string,
  opts: { startAfter?: string; pageSize: number },
): AsyncGenerator<ListedObject[]> {
  let marker = opts.startAfter;
  for (;;) {
    const res = await retryWithBackoff(
      () =>
        b.client.send(
          new ListObjectsCommand({
            Bucket: b.bucket,
            Prefix: prefix,
            MaxKeys: opts.pageSize,
            ...(marker ? { Marker: marker } : {}),
          }),
        ),
      retry,
    );
    const page = (res.Contents ?? []).flatMap((o) =>
      o.Key ? [{ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) }] : [],
    );
    if (page.length > 0) yield page;
    if (!res.IsTruncated || page.length === 0) return;
    marker = page.at(-1)!.key;
  }
}

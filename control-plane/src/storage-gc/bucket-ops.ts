import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ManifestSchema, retryWithBackoff, type Manifest } from '@deploysphere/contracts';

/** One region's bucket as garbage collection reaches it, with the control plane's credentials. */
export interface GcBucket {
  region: string;
  client: S3Client;
  bucket: string;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
}

const retry = { attempts: 4, baseDelayMs: 250 };

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * Pages of keys under `prefix`, in key order, starting after `startAfter`. Key order is what makes
 * a sweep resumable: the last key handled is the whole cursor. ListObjects (v1) with `Marker`
 * takes exactly that key; v2's continuation tokens are opaque, and s3rver cannot even make one
 * (it encrypts them with DES, which Node 20's OpenSSL 3 refuses), so any truncated v2 listing
 * fails there.
 */
export async function* listPages(
  b: GcBucket,
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

/** A stored manifest, or null when it is missing or unreadable (then it keeps nothing alive). */
export async function readManifest(b: GcBucket, key: string): Promise<Manifest | null> {
  return retryWithBackoff(async () => {
    try {
      const res = await b.client.send(new GetObjectCommand({ Bucket: b.bucket, Key: key }));
      const parsed = ManifestSchema.safeParse(JSON.parse((await res.Body?.transformToString()) ?? ''));
      return parsed.success ? parsed.data : null;
    } catch (err) {
      if (isNotFound(err) || err instanceof SyntaxError) return null;
      throw err;
    }
  }, retry);
}

/** Deletes keys, at most 1000 per request; deleting a missing key succeeds (S3 semantics). */
export async function deleteKeys(b: GcBucket, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = keys.slice(i, i + 1000);
    const res = await retryWithBackoff(
      () =>
        b.client.send(
          new DeleteObjectsCommand({
            Bucket: b.bucket,
            Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      retry,
    );
    const failed = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (failed.length > 0) {
      throw new Error(
        `S3 refused to delete ${failed.length} objects in ${b.region}, e.g. ${failed[0]!.Key}: ${failed[0]!.Code}`,
      );
    }
  }
}

import { DeleteObjectsCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ManifestSchema, retryWithBackoff, type Manifest } from '@deploysphere/contracts';

import { isNotFound } from '../infra/stored-object.js';

/** One region's bucket as garbage collection reaches it, with the control plane's credentials. */
export interface GcBucket {
  region: string;
  client: S3Client;
  bucket: string;
}

const retry = { attempts: 4, baseDelayMs: 250 };

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

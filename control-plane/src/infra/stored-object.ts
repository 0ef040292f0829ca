import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { retryWithBackoff, type BackoffOptions } from '@deploysphere/contracts';

/** S3's "no such object", whichever way a call reports it (HEAD has no body, so only a 404). */
export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/** The stored object's size by a HEAD, or null when there is none; other failures are retried. */
export function storedSize(
  b: { client: S3Client; bucket: string },
  key: string,
  retry: BackoffOptions,
): Promise<number | null> {
  return retryWithBackoff(async () => {
    try {
      const head = await b.client.send(new HeadObjectCommand({ Bucket: b.bucket, Key: key }));
      return head.ContentLength ?? null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }, retry);
}

import { S3Client } from '@aws-sdk/client-s3';
import type { StorageTarget } from '@deploysphere/contracts';

/**
 * The one way the platform builds an S3 client for a region's bucket.
 *
 * Checksums are only computed when an operation requires them: with the SDK's default
 * (`WHEN_SUPPORTED`) streamed bodies are sent with aws-chunked framing, which S3-compatible
 * servers such as s3rver store verbatim inside the object while still answering 200.
 */
export function createS3Client(target: StorageTarget): S3Client {
  return new S3Client({
    // S3-compatible servers ignore the region, but the SDK needs one to sign.
    region: target.endpoint ? 'us-east-1' : target.region,
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    forcePathStyle: target.forcePathStyle,
    ...(target.accessKeyId && target.secretAccessKey
      ? { credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey } }
      : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 4,
  });
}

import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StorageGrants } from '../build-sessions/storage-grants.js';
import { BatchPresignedGrants } from './batch-presigner.js';

const blob = (n: number, contentType = 'text/html; charset=utf-8') => ({
  hash: n.toString(16).padStart(64, '0'),
  size: n,
  contentType,
});

const clients = {
  'a path-style endpoint (s3rver, MinIO)': new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:4569',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  }),
  'AWS itself, virtual-hosted, with a session token': new S3Client({
    region: 'eu-west-1',
    credentials: {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      sessionToken: 'FwoG/ZXIvYXdzE+token=',
    },
  }),
};

afterEach(() => {
  vi.useRealTimers();
});

describe('BatchPresignedGrants', () => {
  it.each(Object.entries(clients))(
    'signs every PUT exactly as the SDK does, for %s',
    async (_name, client) => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-12-03T03:40:00Z'));
      const b = { client, bucket: 'deploysphere-blobs' };
      const sdk = new StorageGrants({ bucketFor: () => b });
      const batch = new BatchPresignedGrants({ bucketFor: () => b });
      // The first is the SDK's own (the template); the others are signed here.
      expect(await batch.blobPut(b, blob(1))).toEqual(await sdk.blobPut(b, blob(1)));
      for (const [n, type] of [
        [2, 'text/html; charset=utf-8'],
        [3, 'image/png'],
        [4, 'application/javascript; charset=utf-8'],
      ] as const) {
        expect(await batch.blobPut(b, blob(n, type))).toEqual(await sdk.blobPut(b, blob(n, type)));
      }
    },
  );

  it.each(Object.entries(clients))(
    'signs presigned HEADs exactly as the SDK does, for %s',
    async (_name, client) => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-12-03T03:50:00Z'));
      const b = { client, bucket: 'deploysphere-blobs' };
      const batch = new BatchPresignedGrants({ bucketFor: () => b });
      const hashes = [1, 2, 3].map((n) => blob(n).hash);
      const urls = await batch.blobHeads(b, hashes, 300);
      expect(urls).toEqual(
        await Promise.all(
          hashes.map((h) =>
            getSignedUrl(client, new HeadObjectCommand({ Bucket: b.bucket, Key: `blobs/${h}` }), {
              expiresIn: 300,
            }),
          ),
        ),
      );
    },
  );

  it('falls back to the SDK when the template cannot be reproduced', async () => {
    const b = { client: clients['a path-style endpoint (s3rver, MinIO)'], bucket: 'deploysphere-blobs' };
    const batch = new BatchPresignedGrants({ bucketFor: () => b });
    // An SDK answer this code cannot reproduce (here: a signature changed after signing).
    const original = StorageGrants.prototype.blobPut;
    const sdkPut = vi.spyOn(StorageGrants.prototype, 'blobPut').mockImplementation(async function (
      this: StorageGrants,
      bucket,
      b2,
    ) {
      const put = await original.call(this, bucket, b2);
      const url = new URL(put.url);
      url.searchParams.set('X-Amz-Signature', '0'.repeat(64));
      return { ...put, url: url.toString() };
    });
    await batch.blobPut(b, blob(1));
    await batch.blobPut(b, blob(2));
    expect(sdkPut).toHaveBeenCalledTimes(2);
    sdkPut.mockRestore();
  });
});

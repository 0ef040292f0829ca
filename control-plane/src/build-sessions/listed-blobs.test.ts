import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import { blobKey } from '@deploysphere/contracts';
import { startS3rver, S3RVER_CREDENTIALS, type EmbeddedS3 } from '@deploysphere/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listWantedBlobs } from './listed-blobs.js';

let dir: string;
let s3: EmbeddedS3;
let client: S3Client;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
/** 400 stored blobs, each its own text as content. */
const stored = Array.from({ length: 400 }, (_, i) => `blob ${i}`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-listed-blobs-'));
  s3 = await startS3rver({ directory: join(dir, 's3'), buckets: ['sites'] });
  client = createS3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    bucket: 'sites',
    forcePathStyle: true,
    ...S3RVER_CREDENTIALS,
  });
  for (let i = 0; i < stored.length; i += 50) {
    await Promise.all(
      stored
        .slice(i, i + 50)
        .map((text) =>
          client.send(new PutObjectCommand({ Bucket: 'sites', Key: blobKey(sha(text)), Body: text })),
        ),
    );
  }
  // Not a blob: must never be taken for one.
  await client.send(
    new PutObjectCommand({ Bucket: 'sites', Key: 'deployments/x/manifest.json', Body: '{}' }),
  );
});
afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('listWantedBlobs', () => {
  it('finds every stored wanted blob with its size in sixteen listed ranges, and no unstored one', async () => {
    const missing = Array.from({ length: 20 }, (_, i) => sha(`never stored ${i}`));
    const wanted = [...stored.map(sha), ...missing];
    const listed = await listWantedBlobs({ client, bucket: 'sites' }, wanted, { pagesPerRange: 1 });
    expect([...listed.keys()].sort().join('')).toBe('0123456789abcdef');
    const found = new Map<string, number>();
    for (const range of listed.values()) {
      expect(range).toBeDefined();
      for (const [hash, size] of range!) found.set(hash, size);
    }
    expect(found.size).toBe(stored.length);
    for (const text of stored) expect(found.get(sha(text))).toBe(Buffer.byteLength(text));
    for (const hash of missing) expect(found.has(hash)).toBe(false);
  });

  it('follows pages by StartAfter: pages of 5 keys, enough of them, still find every blob', async () => {
    const wanted = stored.map(sha);
    const listed = await listWantedBlobs({ client, bucket: 'sites' }, wanted, {
      pagesPerRange: 20,
      pageKeys: 5,
    });
    let found = 0;
    for (const range of listed.values()) found += range!.size;
    expect(found).toBe(stored.length);
  });

  it('gives up exactly the ranges holding more blobs than its page budget covers', async () => {
    // 2 pages of 12 keys cover 24 blobs a range, and the 400 stored blobs spread about 25 to a
    // range, so some ranges fit and some do not.
    const wanted = stored.map(sha);
    const listed = await listWantedBlobs({ client, bucket: 'sites' }, wanted, {
      pagesPerRange: 2,
      pageKeys: 12,
    });
    const perRange = new Map<string, number>();
    for (const hash of wanted) perRange.set(hash[0]!, (perRange.get(hash[0]!) ?? 0) + 1);
    for (const [range, count] of perRange) {
      if (count <= 24) expect(listed.get(range)?.size, `range ${range}: ${count} blobs`).toBe(count);
      else expect(listed.get(range), `range ${range}: ${count} blobs`).toBeUndefined();
    }
    expect([...perRange.values()].some((c) => c <= 24)).toBe(true);
    expect([...perRange.values()].some((c) => c > 24)).toBe(true);
  });
});

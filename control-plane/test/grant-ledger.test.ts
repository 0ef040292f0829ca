import { createS3Client } from '@deploysphere/build-worker/s3-client';
import { putPresigned } from '@deploysphere/build-worker/presigned-http';
import type { UploadBlob, UploadGrantsResponse } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrantedBlobs } from '../src/build-sessions/granted-blobs.js';
import { StorageGrants, type GrantBucket } from '../src/build-sessions/storage-grants.js';
import { GcService } from '../src/storage-gc/gc-service.js';
import {
  DAY,
  gcSettings,
  HOUR,
  quietLog,
  sha256,
  startStorageStack,
  TestBuckets,
  uniqueContent,
  type GcRegion,
  type StorageStack,
} from './gc-harness.js';
import { newTestId, type PipelineHarness } from './pipeline-harness.js';

// The grant ledger (GrantedBlobs) on real PostgreSQL and s3rver in two regions: the upload grants
// skip the HEAD of a blob never granted, find by HEAD the ones that were, and stay right when the
// ledger is wrong; garbage collection reconciles it with the bucket.

let stack: StorageStack;
let h: PipelineHarness;
let regions: GcRegion[];
let bucketSeq = 0;

beforeAll(async () => {
  stack = await startStorageStack('ds-ledger-');
  ({ h, regions } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

/** A fresh bucket per region, reached by clients that count their HEADs. */
async function setup() {
  const b = await TestBuckets.create(regions, `ledger-${++bucketSeq}`);
  const heads = new Map<string, number>();
  const buckets = new Map<string, GrantBucket>(
    regions.map((r) => {
      const client = createS3Client(r.target);
      client.middlewareStack.add(
        (next, context) => (args) => {
          if (context.commandName === 'HeadObjectCommand')
            heads.set(r.region, (heads.get(r.region) ?? 0) + 1);
          return next(args);
        },
        { step: 'initialize' },
      );
      return [r.region, { client, bucket: b.name }];
    }),
  );
  const ledger = new GrantedBlobs(h.db);
  const grants = new StorageGrants({ bucketFor: (region) => buckets.get(region), ledger });
  const ask = (blobs: UploadBlob[]) =>
    grants.uploadGrants(
      {
        deploymentId: newTestId(),
        projectSlug: 'ledger',
        regions: regions.map((r) => r.region),
        previousDeployments: [],
        branch: 'main',
        productionBranch: 'main',
      },
      blobs,
    );
  const rows = async (bucket = b.name) =>
    (await h.db.grantedBlob.findMany({ where: { bucket } })).map((r) => `${r.region}:${r.hash}`).sort();
  const stop = () => {
    for (const c of buckets.values()) c.client.destroy();
  };
  return { b, heads, ledger, ask, rows, stop };
}

const blobOf = (content: string): UploadBlob => ({
  hash: sha256(content),
  size: Buffer.byteLength(content),
  contentType: 'text/plain',
});

const missingIn = (res: UploadGrantsResponse, region: string) =>
  res.regions.find((r) => r.region === region)!.missing;

async function upload(res: UploadGrantsResponse, contents: string[]) {
  const stored: Record<string, boolean[]> = {};
  for (const r of res.regions)
    for (const g of r.missing) {
      const content = contents.find((c) => sha256(c) === g.hash);
      if (content === undefined) continue;
      const { stored: s } = await putPresigned(g.put, Buffer.from(content), Buffer.byteLength(content));
      (stored[r.region] ??= []).push(s);
    }
  return stored;
}

describe('the grant ledger', () => {
  it('grants blobs never granted without a HEAD, and finds the uploaded ones by HEAD for another deployment', async () => {
    const { heads, ask, rows, stop } = await setup();
    const contents = [uniqueContent(), uniqueContent(), uniqueContent()];
    const blobs = contents.map(blobOf);

    const first = await ask(blobs);
    for (const r of regions)
      expect(missingIn(first, r.region).map((g) => g.hash)).toEqual(blobs.map((x) => x.hash));
    expect([...heads.values()].reduce((a, n) => a + n, 0)).toBe(0);
    // Noted before the answer: every grant has its row in each region.
    expect(await rows()).toEqual(regions.flatMap((r) => blobs.map((x) => `${r.region}:${x.hash}`)).sort());

    // Two of the three land; another deployment (no earlier manifest) asks again.
    const landed = contents.slice(0, 2);
    const partial = {
      ...first,
      regions: first.regions.map((r) => ({
        ...r,
        missing: r.missing.filter((g) => landed.some((c) => sha256(c) === g.hash)),
      })),
    };
    expect(Object.values(await upload(partial, landed)).flat()).toEqual([true, true, true, true]);
    const second = await ask(blobs);
    for (const r of regions) {
      expect(missingIn(second, r.region).map((g) => g.hash)).toEqual([blobs[2]!.hash]);
      expect(heads.get(r.region)).toBe(3);
    }
    stop();
  });

  it('stays right where the ledger is wrong: a blob stored without a row is granted again, never replaced by other bytes', async () => {
    const { b, ask, rows, stop } = await setup();
    const legacy = uniqueContent();
    const hash = await b.blob(legacy, { ageMs: 0 });
    expect(await rows()).toEqual([]);

    const res = await ask([blobOf(legacy)]);
    for (const r of regions) {
      const [grant] = missingIn(res, r.region);
      expect(grant?.hash).toBe(hash);
      // S3 refuses a PUT over a stored blob, and one of other bytes. s3rver enforces neither
      // (docs/build-isolation.md), so here the same bytes are written again.
      expect(grant?.put.headers).toMatchObject({ 'if-none-match': '*' });
      expect(grant?.put.headers['x-amz-checksum-sha256']).toBe(Buffer.from(hash, 'hex').toString('base64'));
    }
    await upload(res, [legacy]);
    for (const r of regions) expect(await b.text(r.region, `blobs/${hash}`)).toBe(legacy);
    stop();
  });

  it('is reconciled with the bucket by each sweep: rows for the blobs kept, none for blobs deleted or grants expired unused', async () => {
    const { b, ledger, rows, stop } = await setup();
    const [us, eu] = regions.map((r) => r.region) as [string, string];
    // Stored before the ledger: young, so the sweep keeps it.
    const legacy = await b.blob(uniqueContent(), { ageMs: 0, regions: [us] });
    // Unreferenced and old: the sweep deletes it.
    const doomed = await b.blob(uniqueContent(), { ageMs: 2 * DAY, regions: [us] });
    // Granted, never uploaded: one long ago, one just now (its upload may still come).
    const expired = sha256(uniqueContent());
    const pending = sha256(uniqueContent());
    await ledger.noteGranted({ region: us, bucket: b.name }, [doomed, expired, pending]);
    await ledger.noteGranted({ region: eu, bucket: b.name }, [expired]);
    await h.db.grantedBlob.updateMany({
      where: { bucket: b.name, hash: { in: [doomed, expired] } },
      data: { grantedAt: new Date(Date.now() - 3 * HOUR) },
    });
    // Another bucket's rows are not this sweep's to touch.
    const other = `ledger-other-${bucketSeq}`;
    await ledger.noteGranted({ region: us, bucket: other }, [expired]);
    await h.db.grantedBlob.updateMany({ where: { bucket: other }, data: { grantedAt: new Date(0) } });

    const gc = new GcService({
      db: h.db,
      routes: h.kv.routes,
      rootDomain: 'localhost',
      buckets: b.gcBuckets,
      // Pages of one key, so the ranges between pages are reconciled too.
      settings: gcSettings({ pageSize: 1 }),
      log: quietLog,
    });
    const dry = await gc.runNow('api', true);
    expect(dry.kind).toBe('done');
    expect(await rows()).toHaveLength(4);

    const result = await gc.runNow('api', false);
    if (result.kind !== 'done') throw new Error(`expected a run, got ${result.kind}`);
    expect(result.run.status, result.run.error ?? '').toBe('completed');
    expect(await b.exists(us, `blobs/${doomed}`)).toBe(false);
    expect(await rows()).toEqual([`${us}:${legacy}`, `${us}:${pending}`].sort());
    expect(await rows(other)).toEqual([`${us}:${expired}`]);
    stop();
  });
});

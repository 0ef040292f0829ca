import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import { blobKey, deploymentHost, routeKey, type UploadGrantsResponse } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageGrants } from '../src/build-sessions/storage-grants.js';
import { CloudflareKvRouteStore } from '../src/hosts/cloudflare-kv-route-store.js';
import { GcService, type GcSettings } from '../src/storage-gc/gc-service.js';
import type { GcBucket } from '../src/storage-gc/index.js';
import {
  gcSettings,
  isBlobListing,
  isDeleteObjects,
  quietLog,
  sha256,
  startGatedProxy,
  startKvStandIn,
  startStorageStack,
  TestBuckets,
  uniqueContent,
  until,
  type GatedProxy,
  type GcRegion,
  type StorageStack,
} from './gc-harness.js';
import { newTestId, type PipelineHarness } from './pipeline-harness.js';

// The sweep against what runs beside it: a build's upload, a second collector, and its own death.
// Each test stops the collector at an exact point of its sweep by holding one S3 request in a
// proxy in front of s3rver, so the interleaving is forced, not hoped for.

let stack: StorageStack;
let h: PipelineHarness;
let regions: GcRegion[];
let proxies: GatedProxy[];
let bucketSeq = 0;

beforeAll(async () => {
  stack = await startStorageStack('ds-gc-races-');
  ({ h, regions } = stack);
  proxies = await Promise.all(regions.map((r) => startGatedProxy(r.s3.endpoint)));
});

afterAll(async () => {
  for (const p of proxies ?? []) await p.stop();
  await stack?.stop();
});

const buckets = () => TestBuckets.create(regions, `gc-race-${++bucketSeq}`);

/** The buckets as a collector reaches them through the proxies. */
const proxied = (b: TestBuckets): GcBucket[] =>
  regions.map((r, i) => ({
    region: r.region,
    client: createS3Client({ ...r.target, endpoint: proxies[i]!.endpoint }),
    bucket: b.name,
  }));

function collector(bucketList: GcBucket[], over: Partial<GcSettings> = {}, holder?: string) {
  return new GcService({
    db: h.db,
    routes: h.kv.routes,
    rootDomain: 'localhost',
    buckets: bucketList,
    settings: gcSettings(over),
    log: quietLog,
    ...(holder ? { holder } : {}),
  });
}

/** Upload grants as the control plane answers a build, claiming through `gc`. */
const grantsFor = (b: TestBuckets, gc: GcService) =>
  new StorageGrants({
    bucketFor: (region) => {
      const r = regions.find((x) => x.region === region);
      return r ? { client: r.client, bucket: b.name } : undefined;
    },
    claimBlobs: (id, hashes) => gc.claim(id, hashes),
  });

async function buildingDeployment() {
  const p = await h.project();
  const id = newTestId();
  await h.state.create({ id, projectId: p.id, regions: regions.map((r) => r.region) });
  expect(await h.state.claim(id)).toBe('claimed');
  return { id, slug: p.slug };
}

const scope = (d: { id: string; slug: string }) => ({
  deploymentId: d.id,
  projectSlug: d.slug,
  regions: regions.map((r) => r.region),
  previousDeployments: [],
  branch: 'main',
  productionBranch: 'main',
});

const missingIn = (res: UploadGrantsResponse, region: string) =>
  res.regions.find((r) => r.region === region)!.missing.map((m) => m.hash);

describe('garbage collection beside uploads', () => {
  it('never deletes a blob a build was told is stored after the mark (its claim is seen by the sweep)', async () => {
    const b = await buckets();
    // An old blob no manifest references: garbage, until a build reuses it.
    const reused = await b.blob(uniqueContent());
    const garbage = await b.blob(uniqueContent());
    const gc = collector(proxied(b));
    // Stop the collector after its mark, at the first region's blob listing.
    const gate = proxies[0]!.hold(isBlobListing);
    const running = gc.runNow('api', false);
    await gate.reached;

    // A build asks which blobs it must upload: `reused` is stored, so it will not upload it.
    const d = await buildingDeployment();
    const fresh = uniqueContent();
    const grants = await grantsFor(b, gc).uploadGrants(scope(d), [
      { hash: reused, size: 32, contentType: 'text/plain' },
      { hash: sha256(fresh), size: fresh.length, contentType: 'text/plain' },
    ]);
    for (const r of regions) expect(missingIn(grants, r.region)).not.toContain(reused);

    gate.release();
    const done = await running;
    expect(done.kind).toBe('done');
    if (done.kind !== 'done') return;
    // The claim spared it in every region; the real garbage went.
    expect(await b.everywhere(blobKey(reused))).toBe(true);
    expect(await b.everywhere(blobKey(garbage))).toBe(false);
    for (const r of done.run.report.regions) expect(r).toMatchObject({ blobsDeleted: 1, blobsSpared: 1 });
  });

  it('a build asking during a delete batch waits for it, then is told to upload what was deleted', async () => {
    const b = await buckets();
    const doomed = await b.blob(uniqueContent());
    const gc = collector(proxied(b));
    // Stop the collector inside its first delete batch, which holds the sweep lock.
    const gate = proxies[0]!.hold(isDeleteObjects);
    const running = gc.runNow('api', false);
    await gate.reached;

    const d = await buildingDeployment();
    let answered = false;
    const asking = grantsFor(b, gc)
      .uploadGrants(scope(d), [{ hash: doomed, size: 32, contentType: 'text/plain' }])
      .finally(() => (answered = true));
    // The grant's claim waits on the sweep lock (a PostgreSQL advisory lock not granted yet).
    await until('the grant to wait on the sweep lock', async () => {
      const waiting = await h.db.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`;
      return waiting[0]!.n > 0n;
    });
    expect(answered).toBe(false);

    gate.release();
    const [done, grants] = await Promise.all([running, asking]);
    expect(done.kind).toBe('done');
    // Deleted from the first region by the batch it waited for; the build uploads it again there.
    expect(await b.exists(regions[0]!.region, blobKey(doomed))).toBe(false);
    expect(missingIn(grants, regions[0]!.region)).toEqual([doomed]);
    // In the second region the claim came first: the blob stays, and the build need not upload it.
    expect(await b.exists(regions[1]!.region, blobKey(doomed))).toBe(true);
    expect(missingIn(grants, regions[1]!.region)).toEqual([]);
  });

  it('one collector at a time: a second is refused while the first holds the lease', async () => {
    const b = await buckets();
    const first = collector(proxied(b), {}, 'replica-a');
    const second = collector(b.gcBuckets, {}, 'replica-b');
    const gate = proxies[0]!.hold(isBlobListing);
    const running = first.runNow('api', false);
    await gate.reached;
    const refused = await second.runNow('api', false);
    expect(refused.kind).toBe('busy');
    gate.release();
    const done = await running;
    expect(done.kind).toBe('done');
    if (refused.kind === 'busy' && done.kind === 'done') expect(refused.runId).toBe(done.run.id);
  });

  it('resumes after its control plane is killed mid-sweep: same run, nothing swept twice, everything swept', async () => {
    const b = await buckets();
    const kv = await startKvStandIn();
    try {
      const p = await h.project();
      const keep: string[] = [];
      for (let i = 0; i < 6; i++) keep.push(await b.blob(uniqueContent()));
      const doomed: string[] = [];
      for (let i = 0; i < 24; i++) doomed.push(await b.blob(uniqueContent()));
      const live = newTestId();
      await h.db.deployment.create({
        data: { id: live, projectId: p.id, status: 'ready', regions: regions.map((r) => r.region) },
      });
      await b.manifest(live, keep);
      kv.values.set(routeKey(deploymentHost(p.slug, live, 'localhost')), '{}');

      // The collector runs in its own process, sweeping 4 keys per batch through the proxy;
      // its second delete batch in the first region is held, and the process killed there.
      const gate = proxies[0]!.hold(isDeleteObjects, 2);
      const settings = gcSettings({ pageSize: 4, leaseMs: 1500 });
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(new URL('./gc-child.ts', import.meta.url))],
        {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '/root',
            GC_CHILD: JSON.stringify({
              databaseUrl: h.databaseUrl,
              kvApiBase: kv.apiBase,
              buckets: regions.map((r, i) => ({
                target: { ...r.target, endpoint: i === 0 ? proxies[0]!.endpoint : r.target.endpoint },
                bucket: b.name,
              })),
              settings,
            }),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      await Promise.race([
        gate.reached,
        exited.then(() => {
          throw new Error(`the collector exited before its second batch: ${stderr}`);
        }),
      ]);
      child.kill('SIGKILL');
      await exited;
      gate.release();

      const killed = await h.db.gcRun.findFirstOrThrow({ where: { status: 'running' } });
      const progress = killed.progress as { regions: Record<string, { step: string; after?: string }> };
      expect(progress.regions[regions[0]!.region]).toMatchObject({ step: 'blobs' });
      const before = await Promise.all(doomed.map((hash) => b.exists(regions[0]!.region, blobKey(hash))));
      const sweptBefore = before.filter((e) => !e).length;
      expect(sweptBefore).toBeGreaterThan(0);
      expect(sweptBefore).toBeLessThan(doomed.length);

      // Another control plane takes over once the dead one's lease has lapsed.
      const successor = new GcService({
        db: h.db,
        routes: new CloudflareKvRouteStore({
          accountId: 'a',
          namespaceId: 'n',
          apiToken: 't',
          apiBase: kv.apiBase,
        }),
        rootDomain: 'localhost',
        buckets: b.gcBuckets,
        settings,
        log: quietLog,
      });
      let result = await successor.runNow('api', false);
      const deadline = Date.now() + 30_000;
      while (result.kind === 'busy' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        result = await successor.runNow('api', false);
      }
      expect(result.kind).toBe('done');
      if (result.kind !== 'done') return;
      expect(result.run.id).toBe(killed.id);
      const row = await h.db.gcRun.findUniqueOrThrow({ where: { id: killed.id } });
      expect(row).toMatchObject({ status: 'completed', resumes: 1 });

      for (const hash of doomed) expect(await b.everywhere(blobKey(hash))).toBe(false);
      for (const hash of keep) expect(await b.everywhere(blobKey(hash))).toBe(true);
      // The held batch never reached S3, and every batch done was saved before the next began:
      // the report counts each deletion once, across both holders.
      for (const r of result.run.report.regions)
        expect(r).toMatchObject({ blobsDeleted: doomed.length, blobsKept: keep.length });
      expect(kv.values.has(routeKey(deploymentHost(p.slug, live, 'localhost')))).toBe(true);
    } finally {
      await kv.stop();
    }
  }, 120_000);
});

import { blobKey, deploymentHost, manifestKey, type RouteRecord } from '@deploysphere/contracts';
import { archiveKey, branchIndexKey, metaKey } from '@deploysphere/build-worker/cache-keys';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GcService, type GcSettings } from '../src/storage-gc/gc-service.js';
import {
  DAY,
  gcSettings,
  HOUR,
  quietLog,
  startStorageStack,
  TestBuckets,
  uniqueContent,
  type GcRegion,
  type StorageStack,
} from './gc-harness.js';
import { newTestId, type PipelineHarness } from './pipeline-harness.js';

// Retention and mark-and-sweep garbage collection on real PostgreSQL, s3rver (two regions) and
// Workers KV in workerd. Objects are aged by setting s3rver's file times, so the grace period is
// real. Each test collects its own fresh bucket in each region.

let stack: StorageStack;
let h: PipelineHarness;
let regions: GcRegion[];
let bucketSeq = 0;

beforeAll(async () => {
  stack = await startStorageStack('ds-gc-');
  ({ h, regions } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

const buckets = () => TestBuckets.create(regions, `gc-test-${++bucketSeq}`);

function gcOver(b: TestBuckets, over: Partial<GcSettings> = {}, holder?: string) {
  return new GcService({
    db: h.db,
    routes: h.kv.routes,
    rootDomain: 'localhost',
    buckets: b.gcBuckets,
    settings: gcSettings(over),
    log: quietLog,
    ...(holder ? { holder } : {}),
  });
}

async function project(retention: { retainReadyPerBranch?: number; previewMaxAgeDays?: number } = {}) {
  const slug = `gc-${newTestId().slice(0, 10)}`;
  return h.db.project.create({
    data: {
      id: newTestId(),
      slug,
      repoUrl: 'file:///nowhere',
      regions: regions.map((r) => r.region),
      ...retention,
    },
    select: { id: true, slug: true },
  });
}

async function deployment(
  p: { id: string },
  opts: {
    status?: 'ready' | 'error' | 'building';
    target?: 'production' | 'preview';
    branch?: string;
    ageMs: number;
  },
) {
  const createdAt = new Date(Date.now() - opts.ageMs);
  const status = opts.status ?? 'ready';
  const d = await h.db.deployment.create({
    data: {
      id: newTestId(),
      projectId: p.id,
      status,
      target: opts.target ?? 'production',
      branch: opts.branch ?? null,
      regions: regions.map((r) => r.region),
      createdAt,
      finishedAt: status === 'building' ? null : createdAt,
      bytes: 32n,
    },
  });
  return d.id;
}

const record = (slug: string, id: string): RouteRecord => ({
  v: 1,
  kind: 'deployment',
  deploymentId: id,
  projectSlug: slug,
  regions: regions.map((r) => r.region),
  updatedAt: new Date().toISOString(),
});

async function run(gc: GcService, dryRun = false) {
  const result = await gc.runNow('api', dryRun);
  if (result.kind !== 'done') throw new Error(`expected a run, got ${result.kind}`);
  expect(result.run.status, result.run.error ?? '').toBe('completed');
  return result.run;
}

describe('garbage collection', () => {
  it('keeps production, the last N and aliased previews; expires the rest with their manifests, routes and unshared blobs in every region', async () => {
    const b = await buckets();
    const p = await project({ retainReadyPerBranch: 2, previewMaxAgeDays: 30 });
    // Production lane, oldest first: P1 is production again after a rollback.
    const P: string[] = [];
    for (let i = 1; i <= 4; i++) P.push(await deployment(p, { ageMs: (10 - i) * DAY }));
    await h.db.project.update({ where: { id: p.id }, data: { productionDeploymentId: P[0] } });
    // A branch's previews: the alias serves the oldest (beyond the last 2).
    const F: string[] = [];
    for (let i = 1; i <= 3; i++)
      F.push(await deployment(p, { target: 'preview', branch: 'feature', ageMs: (5 - i) * DAY }));
    await h.db.branchAlias.create({
      data: {
        hostname: `${p.slug}-git-feature.localhost`,
        projectId: p.id,
        branch: 'feature',
        deploymentId: F[0],
      },
    });
    const old = await deployment(p, { target: 'preview', branch: 'stale', ageMs: 40 * DAY });
    const failed = await deployment(p, { status: 'error', ageMs: 2 * DAY });
    const inFlight = await deployment(p, { status: 'building', ageMs: 0 });

    const shared = await b.blob(uniqueContent());
    const own = new Map<string, string>();
    for (const id of [...P, ...F, old, failed]) {
      own.set(id, await b.blob(uniqueContent()));
      await b.manifest(id, [own.get(id)!, ...(id === P[1] || id === P[3] ? [shared] : [])]);
      await h.kv.routes.put(deploymentHost(p.slug, id, 'localhost'), record(p.slug, id));
    }
    const orphan = await b.blob(uniqueContent());
    // Uploaded by the in-flight build a moment ago; its manifest does not exist yet.
    const fresh = await b.blob(uniqueContent(), { ageMs: 0 });
    const expired = [P[1]!, old, failed];
    const kept = [...P, ...F].filter((id) => !expired.includes(id));

    const expectReport = (report: Awaited<ReturnType<typeof run>>['report']) => {
      expect(report.expiredDeployments.filter((e) => e.projectSlug === p.slug)).toEqual(
        expect.arrayContaining([
          { id: P[1], projectSlug: p.slug, reason: 'keep-last' },
          { id: old, projectSlug: p.slug, reason: 'preview-age' },
          { id: failed, projectSlug: p.slug, reason: 'failed' },
        ]),
      );
      expect(report.expiredDeployments.filter((e) => e.projectSlug === p.slug)).toHaveLength(3);
      for (const region of regions.map((r) => r.region)) {
        expect(report.regions.find((r) => r.region === region)).toMatchObject({
          manifestsDeleted: 3,
          blobsDeleted: 4, // the three expired ones' own blobs and the orphan
          blobBytesDeleted: 4 * 32,
          blobsSpared: 1, // the in-flight build's fresh blob
          blobsKept: kept.length + 1, // each kept deployment's own blob and the shared one
        });
      }
    };

    // A dry run reports exactly that, and changes nothing.
    const dry = await run(gcOver(b), true);
    expectReport(dry.report);
    for (const id of expired) {
      expect(await b.everywhere(manifestKey(id))).toBe(true);
      expect(await h.kv.routes.get(deploymentHost(p.slug, id, 'localhost'))).not.toBeNull();
    }
    expect(await b.everywhere(blobKey(orphan))).toBe(true);
    expect(await h.db.deployment.count({ where: { projectId: p.id, expiredAt: { not: null } } })).toBe(0);

    const real = await run(gcOver(b));
    expectReport(real.report);
    const rows = await h.db.deployment.findMany({
      where: { projectId: p.id },
      select: { id: true, expiredAt: true, expiredReason: true, status: true },
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(P[1]!)).toMatchObject({ expiredReason: 'keep-last', status: 'ready' });
    expect(byId.get(old)).toMatchObject({ expiredReason: 'preview-age' });
    expect(byId.get(failed)).toMatchObject({ expiredReason: 'failed', status: 'error' });
    for (const id of [...kept, inFlight]) expect(byId.get(id)!.expiredAt).toBeNull();

    for (const id of expired) {
      expect(await b.everywhere(manifestKey(id))).toBe(false);
      expect(await b.everywhere(blobKey(own.get(id)!))).toBe(false);
      expect(await h.kv.routes.get(deploymentHost(p.slug, id, 'localhost'))).toBeNull();
    }
    for (const id of kept) {
      expect(await b.everywhere(manifestKey(id))).toBe(true);
      expect(await b.everywhere(blobKey(own.get(id)!))).toBe(true);
      expect(await h.kv.routes.get(deploymentHost(p.slug, id, 'localhost'))).not.toBeNull();
    }
    expect(await b.everywhere(blobKey(shared))).toBe(true);
    expect(await b.everywhere(blobKey(fresh))).toBe(true);
    expect(await b.everywhere(blobKey(orphan))).toBe(false);

    // Idempotent: a second run finds nothing more to remove.
    const again = await run(gcOver(b));
    expect(again.report.expiredDeployments.filter((e) => e.projectSlug === p.slug)).toEqual([]);
    for (const r of again.report.regions)
      expect(r).toMatchObject({ manifestsDeleted: 0, blobsDeleted: 0, blobsSpared: 1 });

    // The storage view counts what the live deployments reference.
    const storage = await gcOver(b).projectStorage(p.slug);
    expect(storage.deployments).toEqual({ live: kept.length, expired: 2, liveBytes: kept.length * 32 });
    expect(storage.effective).toEqual({
      retainReadyPerBranch: 2,
      previewMaxAgeDays: 30,
      buildCacheExpiryDays: 7,
    });
    for (const r of storage.regions) expect(r).toMatchObject({ blobs: kept.length + 1 });
  });

  it('answers 503, not 500, when a region cannot be read for the storage view', async () => {
    const p = await project();
    const unreachable = createS3Client({ ...regions[0]!.target, endpoint: 'http://127.0.0.1:9' });
    const gc = new GcService({
      db: h.db,
      routes: h.kv.routes,
      rootDomain: 'localhost',
      buckets: [{ region: regions[0]!.region, client: unreachable, bucket: 'gone' }],
      settings: gcSettings(),
      log: quietLog,
    });
    await expect(gc.projectStorage(p.slug)).rejects.toMatchObject({ status: 503, code: 'unavailable' });
    unreachable.destroy();
  });

  it("deletes expired and incomplete build caches and gone projects' caches, keeps used ones", async () => {
    const b = await buckets();
    const p = await project();
    await h.db.project.update({ where: { id: p.id }, data: { buildCacheExpiryDays: 3 } });
    const key = (n: number) => String(n).repeat(64);
    const primary = regions[0]!.region;
    const cache = async (ns: string, k: string, ageMs: number, withMeta = true) => {
      await b.put(primary, archiveKey(ns, k, 'home', 'zst'), 'home-archive', ageMs);
      if (withMeta) await b.put(primary, metaKey(ns, k), '{}', ageMs);
    };
    await cache(p.slug, key(1), 4 * DAY); // unused for 4 days: expired
    await cache(p.slug, key(2), 2 * DAY); // used 2 days ago: kept
    await cache(`${p.slug}/by-branch/0123456789abcdef`, key(3), 5 * DAY); // a branch's, expired
    await cache(p.slug, key(4), 2 * HOUR, false); // an incomplete save, past the grace period
    await cache(p.slug, key(5), 0, false); // a save in progress
    await cache('gone-project', key(6), 2 * HOUR); // its project was deleted
    await b.put(primary, branchIndexKey(p.slug, 'main'), '{}', 4 * DAY);
    await b.put(primary, branchIndexKey(p.slug, 'dev'), '{}', DAY);

    const done = await run(gcOver(b));
    const exists = (k: string) => b.exists(primary, k);
    expect(await exists(metaKey(p.slug, key(1)))).toBe(false);
    expect(await exists(archiveKey(p.slug, key(1), 'home', 'zst'))).toBe(false);
    expect(await exists(metaKey(p.slug, key(2)))).toBe(true);
    expect(await exists(archiveKey(p.slug, key(2), 'home', 'zst'))).toBe(true);
    expect(await exists(metaKey(`${p.slug}/by-branch/0123456789abcdef`, key(3)))).toBe(false);
    expect(await exists(archiveKey(p.slug, key(4), 'home', 'zst'))).toBe(false);
    expect(await exists(archiveKey(p.slug, key(5), 'home', 'zst'))).toBe(true);
    expect(await exists(metaKey('gone-project', key(6)))).toBe(false);
    expect(await exists(branchIndexKey(p.slug, 'main'))).toBe(false);
    expect(await exists(branchIndexKey(p.slug, 'dev'))).toBe(true);
    expect(done.report.regions.find((r) => r.region === primary)).toMatchObject({ cacheObjectsDeleted: 8 });
  });

  it('one holder at a time: a second collector is refused while the lease is held, and a scheduled run is not due again within the interval', async () => {
    const b = await buckets();
    const first = gcOver(b, {}, 'replica-a');
    const second = gcOver(b, {}, 'replica-b');
    const [x, y] = await Promise.all([first.runNow('api', false), second.runNow('api', false)]);
    expect([x.kind, y.kind].sort()).toEqual(['busy', 'done']);

    // Both replicas tick: neither starts another run until the interval (an hour) has passed
    // since the last completed one; with a 1 ms interval, one is due again.
    expect((await first.runNow('schedule', false)).kind).toBe('not-due');
    expect((await second.runNow('schedule', false)).kind).toBe('not-due');
    expect((await gcOver(b, { intervalMs: 1 }, 'replica-a').runNow('schedule', false)).kind).toBe('done');
    expect((await second.runNow('schedule', false)).kind).toBe('not-due');
    // An explicit run is always allowed.
    expect((await second.runNow('api', true)).kind).toBe('done');
  });
});

import { randomBytes } from 'node:crypto';
import {
  AppError,
  blobKey,
  deploymentHost,
  manifestKey,
  type EffectiveRetention,
  type GcRegionReport,
  type GcRunView,
  type ProjectStorageView,
} from '@deploysphere/contracts';
import { mapLimit } from '@deploysphere/build-worker/concurrency';
import type { Db } from '@deploysphere/db';
import { GrantedBlobs } from '../build-sessions/granted-blobs.js';
import { DEFAULT_GRANT_EXPIRY_SECONDS } from '../build-sessions/storage-grants.js';
import type { RouteStore } from '../hosts/route-store.js';
import { listPages, type ListedObject } from '../infra/bucket-listing.js';
import { deleteKeys, readManifest, type GcBucket } from './bucket-ops.js';
import { GcStore, toRunView, type GcRunRow, type GcTrigger, type PlannedExpiry } from './gc-store.js';
import { effectiveRetention, expiriesFor } from './retention-policy.js';

export interface GcSettings {
  /** An unreferenced blob (or an orphan manifest, an incomplete cache) younger than this stays. */
  graceMs: number;
  /** How long a run's holder may go without renewing before another control plane takes over. */
  leaseMs: number;
  /** How often a collection is due; every replica checks, one runs. */
  intervalMs: number;
  /** Keys listed (and deleted) per request in the sweeps. */
  pageSize: number;
  defaults: EffectiveRetention;
}

export interface GcLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface GcServiceDeps {
  db: Db;
  routes: RouteStore;
  rootDomain: string;
  buckets: readonly GcBucket[];
  settings: GcSettings;
  log: GcLogger;
  /** This process's name in the lease; random by default. */
  holder?: string;
}

export type GcStartResult = { kind: 'started' | 'resumed' | 'busy'; runId: string } | { kind: 'not-due' };

class LeaseLost extends Error {
  constructor() {
    super('another control plane took the collection over');
  }
}

const DAY_MS = 86_400_000;
const BLOB_PREFIX = 'blobs/';
/**
 * A grant older than this before the run began has expired for sure (with room for S3's clock),
 * so a blob it allowed is in the sweep's listing or was never uploaded.
 */
const GRANT_LIFETIME_MS = DEFAULT_GRANT_EXPIRY_SECONDS * 1000 + 5 * 60_000;
const hashOf = (key: string | undefined) => key?.slice(BLOB_PREFIX.length);
const MANIFEST_RE = /^deployments\/([^/]+)\/manifest\.json$/;
const CACHE_DIR_RE = /^(cache\/([^/]+)\/(?:by-branch\/[0-9a-f]+\/)?[0-9a-f]{64})\/[^/]+$/;
const CACHE_INDEX_RE = /^cache\/([^/]+)\/branches\/[^/]+\.json$/;

/**
 * Retention and mark-and-sweep garbage collection (docs/retention.md). A run, in order:
 *
 * 1. plan: per project, the deployments the retention policy expires; they are marked
 *    (`expiredAt`) under the project's row lock, so a concurrent promote cannot race it;
 * 2. their route records (the deployment's own host) are deleted from KV;
 * 3. per region: manifests of expired (or unknown and old) deployments are deleted, the kept
 *    ones read (mark); then every blob no kept manifest references, older than the grace period
 *    and claimed by no unfinished build, is deleted (sweep), and the grant ledger is reconciled
 *    with what the sweep listed; then expired build caches.
 *
 * Each step is idempotent, and the run saves where it is after each batch, so a run whose
 * control plane died is resumed by the next one to take the lease. A dry run plans and counts,
 * and removes and marks nothing.
 */
export class GcService {
  readonly store: GcStore;
  private readonly ledger: GrantedBlobs;
  readonly holder: string;
  private current: Promise<unknown> | undefined;
  private abort: AbortController | undefined;

  constructor(private readonly deps: GcServiceDeps) {
    this.store = new GcStore(deps.db);
    this.ledger = new GrantedBlobs(deps.db);
    this.holder = deps.holder ?? `cp-${randomBytes(6).toString('hex')}`;
  }

  /** Takes the lease and runs in the background; the run's id answers at once. */
  async start(trigger: GcTrigger, dryRun: boolean): Promise<GcStartResult> {
    const acquired = await this.acquire(trigger, dryRun);
    if (acquired.kind === 'not-due') return acquired;
    if (acquired.kind === 'busy') return { kind: 'busy', runId: acquired.runId };
    const done = this.execute(acquired.run).finally(() => {
      if (this.current === done) this.current = undefined;
    });
    this.current = done;
    return { kind: acquired.kind, runId: acquired.run.id };
  }

  /** Takes the lease and runs to the end; for the scheduler and tests. */
  async runNow(
    trigger: GcTrigger,
    dryRun: boolean,
  ): Promise<{ kind: 'busy'; runId: string } | { kind: 'not-due' } | { kind: 'done'; run: GcRunRow }> {
    const acquired = await this.acquire(trigger, dryRun);
    if (acquired.kind === 'not-due' || acquired.kind === 'busy') return acquired;
    const done = this.execute(acquired.run);
    this.current = done;
    try {
      return { kind: 'done', run: await done };
    } finally {
      if (this.current === done) this.current = undefined;
    }
  }

  private acquire(trigger: GcTrigger, dryRun: boolean) {
    const { leaseMs, intervalMs } = this.deps.settings;
    return this.store.acquire({ holder: this.holder, trigger, dryRun, leaseMs, intervalMs });
  }

  /** Stops a run this process holds and hands its lease back, so a peer resumes it at once. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.current?.catch(() => undefined);
    await this.deps.db.gcRun
      .updateMany({
        where: { holder: this.holder, status: 'running' },
        data: { leaseExpiresAt: new Date() },
      })
      .catch(() => undefined);
  }

  async get(id: string): Promise<GcRunView> {
    const run = await this.store.run(id);
    if (!run) throw AppError.notFound(`Garbage collection run ${id}`, 'id');
    return toRunView(run);
  }

  async latest(): Promise<GcRunView> {
    const run = await this.store.latest();
    if (!run) throw AppError.notFound('Garbage collection run (none has run yet)');
    return toRunView(run);
  }

  /** The build's claim on the blobs of its upload: see GcStore.claim. */
  claim(deploymentId: string, hashes: readonly string[]): Promise<void> {
    return this.store.claim(deploymentId, hashes);
  }

  private async execute(run: GcRunRow): Promise<GcRunRow> {
    const abort = new AbortController();
    this.abort = abort;
    const { leaseMs } = this.deps.settings;
    const renew = setInterval(
      () => {
        this.store.renew(run.id, this.holder, leaseMs).then(
          (held) => {
            if (!held) abort.abort();
          },
          (err: unknown) =>
            this.deps.log.warn({ err, runId: run.id }, 'could not renew the collection lease'),
        );
      },
      Math.max(100, Math.floor(leaseMs / 3)),
    );
    const checkpoint = async () => {
      if (abort.signal.aborted || !(await this.store.save(run, this.holder))) throw new LeaseLost();
    };
    try {
      if (!run.progress.plan) {
        run.progress.plan = await this.plan(run.dryRun);
        run.report.expiredDeployments = run.progress.plan.map(({ id, projectSlug, reason }) => ({
          id,
          projectSlug,
          reason,
        }));
        await checkpoint();
      }
      if (!run.progress.routesDone) {
        for (const e of run.progress.plan) {
          if (!run.dryRun)
            await this.deps.routes.delete(deploymentHost(e.projectSlug, e.id, this.deps.rootDomain));
          run.report.routeRecordsDeleted++;
        }
        run.progress.routesDone = true;
        await checkpoint();
      }
      const slugs = await this.projectExpiryDays();
      for (const b of this.deps.buckets) await this.collectRegion(run, b, slugs, checkpoint);
      if (!run.dryRun && !run.progress.claimsPruned) {
        await this.store.pruneClaims(run.startedAt);
        run.progress.claimsPruned = true;
      }
      await this.store.finish(run, this.holder);
      this.deps.log.info(
        { runId: run.id, dryRun: run.dryRun, report: summary(run) },
        'garbage collection finished',
      );
      return { ...run, status: 'completed' };
    } catch (err) {
      if (err instanceof LeaseLost || abort.signal.aborted) {
        this.deps.log.warn(
          { runId: run.id },
          'garbage collection stopped; another control plane may resume it',
        );
        return run;
      }
      this.deps.log.error({ err, runId: run.id }, 'garbage collection failed');
      await this.store.finish(run, this.holder, (err as Error).message ?? String(err)).catch(() => undefined);
      return { ...run, status: 'failed', error: (err as Error).message };
    } finally {
      clearInterval(renew);
      if (this.abort === abort) this.abort = undefined;
    }
  }

  /** Every project's expiries, marked (unless a dry run) under the project's row lock. */
  private async plan(dryRun: boolean): Promise<PlannedExpiry[]> {
    const now = new Date();
    const out: PlannedExpiry[] = [];
    for (const p of await this.store.projects()) {
      const expiries = expiriesFor({
        deployments: await this.store.candidates(p.id),
        productionDeploymentId: p.productionDeploymentId,
        aliasTargets: await this.store.aliasTargets(p.id),
        retention: effectiveRetention(p, this.deps.settings.defaults),
        graceMs: this.deps.settings.graceMs,
        now,
      });
      const applied = dryRun ? expiries : await this.store.markExpired(p.id, expiries);
      for (const e of applied) out.push({ ...e, projectSlug: p.slug });
    }
    return out;
  }

  private async projectExpiryDays(): Promise<Map<string, number>> {
    const projects = await this.store.projects();
    return new Map(
      projects.map((p) => [p.slug, effectiveRetention(p, this.deps.settings.defaults).buildCacheExpiryDays]),
    );
  }

  private regionReport(run: GcRunRow, region: string): GcRegionReport {
    let r = run.report.regions.find((x) => x.region === region);
    if (!r) {
      r = {
        region,
        manifestsDeleted: 0,
        blobsDeleted: 0,
        blobBytesDeleted: 0,
        blobsSpared: 0,
        blobsKept: 0,
        cacheObjectsDeleted: 0,
        cacheBytesDeleted: 0,
      };
      run.report.regions.push(r);
    }
    return r;
  }

  private async collectRegion(
    run: GcRunRow,
    b: GcBucket,
    cacheExpiryDays: Map<string, number>,
    checkpoint: () => Promise<void>,
  ): Promise<void> {
    const state = (run.progress.regions[b.region] ??= { step: 'manifests' });
    if (state.step === 'done') return;
    const report = this.regionReport(run, b.region);
    const { graceMs, pageSize } = this.deps.settings;
    const old = (o: ListedObject) => Date.now() - o.lastModified.getTime() > graceMs;

    const live = new Set<string>();
    if (state.step !== 'cache') await this.mark(run, b, live, report);
    if (state.step === 'manifests') {
      state.step = 'blobs';
      await checkpoint();
    }

    if (state.step === 'blobs') {
      // The sweep also reconciles the grant ledger with what it lists (GrantedBlobs.reconcile).
      const ledger = { region: b.region, bucket: b.bucket };
      const grantedBefore = new Date(run.startedAt.getTime() - GRANT_LIFETIME_MS);
      for await (const page of listPages(b, BLOB_PREFIX, {
        pageSize,
        ...(state.after ? { startAfter: state.after } : {}),
      })) {
        const candidates = new Map<string, ListedObject>();
        for (const o of page) {
          const hash = o.key.slice(BLOB_PREFIX.length);
          if (live.has(hash)) report.blobsKept++;
          else if (!old(o)) report.blobsSpared++;
          else candidates.set(hash, o);
        }
        const deleted = await this.store.withoutClaims([...candidates.keys()], async (unclaimed) => {
          if (!run.dryRun) await deleteKeys(b, unclaimed.map(blobKey));
          return unclaimed;
        });
        report.blobsSpared += candidates.size - deleted.length;
        report.blobsDeleted += deleted.length;
        for (const h of deleted) report.blobBytesDeleted += candidates.get(h)!.size;
        if (!run.dryRun) {
          const gone = new Set(deleted);
          await this.ledger.reconcile(ledger, {
            after: hashOf(state.after),
            upTo: hashOf(page.at(-1)!.key),
            kept: page.map((o) => hashOf(o.key)!).filter((h) => !gone.has(h)),
            grantedBefore,
          });
        }
        state.after = page.at(-1)!.key;
        await checkpoint();
      }
      if (!run.dryRun)
        await this.ledger.reconcile(ledger, { after: hashOf(state.after), kept: [], grantedBefore });
      state.step = 'cache';
      await checkpoint();
    }

    await this.collectCache(run, b, cacheExpiryDays, report);
    state.step = 'done';
    await checkpoint();
  }

  /**
   * Mark: reads every kept manifest of the region into `live`, deleting the manifests of expired
   * deployments and old ones no deployment owns. Redone on every resume (deleting an expired
   * manifest twice is harmless), since the live set lives only in memory.
   */
  private async mark(run: GcRunRow, b: GcBucket, live: Set<string>, report: GcRegionReport): Promise<void> {
    const { graceMs, pageSize } = this.deps.settings;
    const old = (o: ListedObject) => Date.now() - o.lastModified.getTime() > graceMs;
    const states = await this.store.manifestStates();
    if (run.dryRun) for (const e of run.progress.plan ?? []) states.set(e.id, 'expired');
    for await (const page of listPages(b, 'deployments/', { pageSize })) {
      const doomed: ListedObject[] = [];
      const read: string[] = [];
      for (const o of page) {
        const id = MANIFEST_RE.exec(o.key)?.[1];
        if (!id) continue;
        const s = states.get(id);
        if (s === 'expired' || (s === undefined && old(o))) doomed.push(o);
        else read.push(o.key);
      }
      await mapLimit(read, 8, async (key) => {
        const m = await readManifest(b, key);
        if (m) for (const f of Object.values(m.files)) live.add(f.hash);
      });
      if (!run.dryRun)
        await deleteKeys(
          b,
          doomed.map((o) => o.key),
        );
      report.manifestsDeleted += doomed.length;
    }
  }

  /**
   * Build caches: a saved cache (`…/<key>/meta.json` present) whose meta was last written (saved
   * or marked used) longer ago than its project's expiry; an incomplete one (no meta) older than
   * the grace period; a branch index older than the expiry; anything of a project that is gone.
   */
  private async collectCache(
    run: GcRunRow,
    b: GcBucket,
    expiryDays: Map<string, number>,
    report: GcRegionReport,
  ): Promise<void> {
    const { graceMs, pageSize } = this.deps.settings;
    const dirs = new Map<string, { slug: string; objects: ListedObject[]; meta?: ListedObject }>();
    const doomed: ListedObject[] = [];
    const now = Date.now();
    for await (const page of listPages(b, 'cache/', { pageSize })) {
      for (const o of page) {
        const index = CACHE_INDEX_RE.exec(o.key);
        if (index) {
          const days = expiryDays.get(index[1]!);
          const limit = days === undefined ? graceMs : days * DAY_MS;
          if (now - o.lastModified.getTime() > limit) doomed.push(o);
          continue;
        }
        const m = CACHE_DIR_RE.exec(o.key);
        if (!m) continue;
        const dir = dirs.get(m[1]!) ?? { slug: m[2]!, objects: [] };
        dir.objects.push(o);
        if (o.key.endsWith('/meta.json')) dir.meta = o;
        dirs.set(m[1]!, dir);
      }
    }
    for (const dir of dirs.values()) {
      const days = expiryDays.get(dir.slug);
      if (days === undefined || !dir.meta) {
        doomed.push(...dir.objects.filter((o) => now - o.lastModified.getTime() > graceMs));
      } else if (now - dir.meta.lastModified.getTime() > days * DAY_MS) {
        // The meta first: without it the cache is incomplete and never offered again.
        doomed.push(dir.meta, ...dir.objects.filter((o) => o !== dir.meta));
      }
    }
    if (!run.dryRun)
      await deleteKeys(
        b,
        doomed.map((o) => o.key),
      );
    report.cacheObjectsDeleted += doomed.length;
    for (const o of doomed) report.cacheBytesDeleted += o.size;
  }

  /** What a project's live deployments and build caches hold in each region. */
  async projectStorage(slug: string): Promise<ProjectStorageView> {
    const p = await this.deps.db.project.findUnique({
      where: { slug },
      select: {
        id: true,
        slug: true,
        regions: true,
        retainReadyPerBranch: true,
        previewMaxAgeDays: true,
        buildCacheExpiryDays: true,
      },
    });
    if (!p) throw AppError.notFound(`Project ${slug}`, 'slug');
    const deployments = await this.deps.db.deployment.findMany({
      where: { projectId: p.id, status: 'ready' },
      select: { id: true, regions: true, bytes: true, expiredAt: true },
    });
    const live = deployments.filter((d) => !d.expiredAt);
    const retention = {
      retainReadyPerBranch: p.retainReadyPerBranch,
      previewMaxAgeDays: p.previewMaxAgeDays,
      buildCacheExpiryDays: p.buildCacheExpiryDays,
    };
    const regions = [];
    for (const b of this.deps.buckets) {
      regions.push(...(await this.regionUsage(b, p, live)));
    }
    return {
      projectSlug: p.slug,
      retention,
      effective: effectiveRetention(retention, this.deps.settings.defaults),
      deployments: {
        live: live.length,
        expired: deployments.length - live.length,
        liveBytes: live.reduce((sum, d) => sum + Number(d.bytes ?? 0n), 0),
      },
      regions,
    };
  }

  /** One region's share of projectStorage; a bucket that cannot be read answers 503, not 500. */
  private async regionUsage(
    b: GcBucket,
    p: { slug: string; regions: string[] },
    live: readonly { id: string; regions: string[] }[],
  ): Promise<ProjectStorageView['regions']> {
    try {
      const hashes = new Map<string, number>();
      await mapLimit(
        live.filter((d) => d.regions.includes(b.region)),
        8,
        async (d) => {
          const m = await readManifest(b, manifestKey(d.id));
          if (m) for (const f of Object.values(m.files)) hashes.set(f.hash, f.size);
        },
      );
      let cacheObjects = 0;
      let cacheBytes = 0;
      for await (const page of listPages(b, `cache/${p.slug}/`, { pageSize: 1000 })) {
        cacheObjects += page.length;
        for (const o of page) cacheBytes += o.size;
      }
      if (hashes.size === 0 && cacheObjects === 0 && !p.regions.includes(b.region)) return [];
      let blobBytes = 0;
      for (const size of hashes.values()) blobBytes += size;
      return [{ region: b.region, blobs: hashes.size, blobBytes, cacheObjects, cacheBytes }];
    } catch (err) {
      throw AppError.unavailable(`the storage of region ${b.region} cannot be read right now`, err);
    }
  }
}

function summary(run: GcRunRow) {
  return {
    expired: run.report.expiredDeployments.length,
    regions: run.report.regions.map((r) => ({
      region: r.region,
      manifests: r.manifestsDeleted,
      blobs: r.blobsDeleted,
      bytes: r.blobBytesDeleted,
      cache: r.cacheObjectsDeleted,
    })),
  };
}

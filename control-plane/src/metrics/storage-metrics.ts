import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { Db } from '@deploysphere/db';
import { Gauge, type Registry } from 'prom-client';
import { listPages } from '../infra/bucket-listing.js';
import type { RegionStorage } from '../infra/storage.js';

/**
 * Listing a bucket costs one request per 1000 objects, so it runs in the background, this often:
 * a minute keeps the Storage dashboard current, and a bucket of a million objects costs 1000
 * LIST requests a minute (about $7 a month at S3's prices), which docs/observability.md notes.
 */
export const STORAGE_LIST_INTERVAL_MS = 60_000;

/** What a bucket holds: content-addressed blobs, per-deployment manifests, and anything else. */
function kindOf(key: string): 'blobs' | 'deployments' | 'other' {
  if (key.startsWith('blobs/')) return 'blobs';
  if (key.startsWith('deployments/')) return 'deployments';
  return 'other';
}

/**
 * Storage KPIs per region bucket: bytes and objects by kind (listed in the background, every
 * STORAGE_LIST_INTERVAL_MS and once at start), whether the bucket answers (HeadBucket at scrape
 * time, for the region-health alert), and the bytes the ready deployments would take without
 * content addressing (from PostgreSQL), which over the blob bytes is the dedupe ratio.
 */
export function registerStorageMetrics(
  registry: Registry,
  deps: { storage: RegionStorage; db: Db; regions: readonly string[]; listIntervalMs?: number },
): { stop(): void } {
  const bytes = new Gauge({
    name: 'deploysphere_storage_bytes',
    help: 'Bytes stored in the region bucket, by kind (blobs, deployments = manifests, other)',
    labelNames: ['region', 'kind'] as const,
    registers: [registry],
  });
  const objects = new Gauge({
    name: 'deploysphere_storage_objects',
    help: 'Objects stored in the region bucket, by kind',
    labelNames: ['region', 'kind'] as const,
    registers: [registry],
  });
  const listedAt = new Gauge({
    name: 'deploysphere_storage_listed_timestamp_seconds',
    help: 'When the region bucket was last listed completely',
    labelNames: ['region'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'deploysphere_storage_logical_bytes',
    help: 'Output bytes of the ready deployments served from the region, counted once per deployment (before dedupe)',
    labelNames: ['region'] as const,
    registers: [registry],
    async collect() {
      const rows = await deps.db.$queryRaw<{ region: string; bytes: number | null }[]>`
        SELECT r AS region, sum("bytes")::float8 AS bytes
        FROM "Deployment", unnest("regions") AS r
        WHERE "status" = 'ready' AND "expiredAt" IS NULL GROUP BY r`.catch(() => undefined);
      if (!rows) return;
      this.reset();
      for (const region of deps.regions)
        this.set({ region }, rows.find((r) => r.region === region)?.bytes ?? 0);
    },
  });
  new Gauge({
    name: 'deploysphere_region_storage_up',
    help: 'Whether the region bucket answers a HeadBucket within 5 s (1) or not (0)',
    labelNames: ['region'] as const,
    registers: [registry],
    async collect() {
      const results = await Promise.all(
        deps.regions.map(async (region) => {
          const client = deps.storage.client(region);
          const target = deps.storage.target(region);
          if (!client || !target) return [region, 0] as const;
          const ok = await client
            .send(new HeadBucketCommand({ Bucket: target.bucket }), {
              abortSignal: AbortSignal.timeout(5_000),
            })
            .then(
              () => 1,
              () => 0,
            );
          return [region, ok] as const;
        }),
      );
      for (const [region, ok] of results) this.set({ region }, ok);
    },
  });

  new Gauge({
    name: 'deploysphere_gc_reclaimed_bytes',
    help: 'Bytes garbage collection has deleted from the region bucket, all runs to date (blobs and build caches; dry runs excluded)',
    labelNames: ['region', 'kind'] as const,
    registers: [registry],
    async collect() {
      // Each run's report (docs/retention.md) holds what it deleted per region, also while running.
      const rows = await deps.db.$queryRaw<{ region: string; blobs: number | null; cache: number | null }[]>`
        SELECT r->>'region' AS region,
               sum((r->>'blobBytesDeleted')::float8) AS blobs,
               sum((r->>'cacheBytesDeleted')::float8) AS cache
        FROM "GcRun", jsonb_array_elements("report"->'regions') AS r
        WHERE NOT "dryRun" GROUP BY 1`.catch(() => undefined);
      if (!rows) return;
      this.reset();
      for (const region of deps.regions) {
        const row = rows.find((r) => r.region === region);
        this.set({ region, kind: 'blobs' }, row?.blobs ?? 0);
        this.set({ region, kind: 'cache' }, row?.cache ?? 0);
      }
    },
  });

  async function list(region: string): Promise<void> {
    const client = deps.storage.client(region);
    const target = deps.storage.target(region);
    if (!client || !target) return;
    const totals = { blobs: [0, 0], deployments: [0, 0], other: [0, 0] } as Record<string, [number, number]>;
    for await (const page of listPages({ client, bucket: target.bucket }, '', { pageSize: 1000 })) {
      for (const o of page) {
        const t = totals[kindOf(o.key)]!;
        t[0] += o.size;
        t[1] += 1;
      }
      if (stopped) break;
    }
    if (stopped) return;
    for (const [kind, [b, n]] of Object.entries(totals)) {
      bytes.set({ region, kind }, b);
      objects.set({ region, kind }, n);
    }
    listedAt.set({ region }, Date.now() / 1000);
  }

  let stopped = false;
  let running: Promise<unknown> | undefined;
  const listAll = () => {
    running ??= Promise.allSettled(deps.regions.map(list)).finally(() => (running = undefined));
  };
  listAll();
  const timer = setInterval(listAll, deps.listIntervalMs ?? STORAGE_LIST_INTERVAL_MS);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

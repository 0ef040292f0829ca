import type { Db } from '@deploysphere/db';
import { Gauge, type Registry } from 'prom-client';

interface RegionRow {
  region: string | null;
  depth: bigint;
  oldest_seconds: number | null;
}
interface RunningRow {
  region: string | null;
  running: bigint;
  last_start: number | null;
}
interface WaitRow {
  region: string | null;
  p50: number | null;
  p90: number | null;
}

/**
 * Build queue KPIs per region, read from PostgreSQL at scrape time: every control plane reports
 * the same truth, however many replicas there are and whichever one dispatched a build (so
 * dashboards aggregate these with max, not sum). A queued deployment's region is its primary
 * region, where its job waits; a started one's is where its runner recorded it ran.
 */
export function registerBuildQueueMetrics(registry: Registry, db: Db, regions: readonly string[]): void {
  // One read serves all five gauges: prom-client collects them concurrently in a scrape, so the
  // first collect starts the reads and the others await the same promise.
  let pending: Promise<void> | undefined;
  const refresh = () =>
    (pending ??= read()
      // A failed read keeps the last values: /metrics must answer while the database is away
      // (up, readiness and the other series still tell the story).
      .catch(() => undefined)
      .finally(() => {
        // Cleared on the next tick, after every gauge of this scrape has awaited it.
        setImmediate(() => (pending = undefined));
      }));

  const depth = new Gauge({
    name: 'deploysphere_build_queue_depth',
    help: 'Deployments queued (waiting for a build slot), by primary region',
    labelNames: ['region'] as const,
    registers: [registry],
    collect: refresh,
  });
  const oldest = new Gauge({
    name: 'deploysphere_build_queue_oldest_seconds',
    help: 'How long the oldest queued deployment has waited, by primary region (0 when none waits)',
    labelNames: ['region'] as const,
    registers: [registry],
    collect: refresh,
  });
  const running = new Gauge({
    name: 'deploysphere_builds_running',
    help: 'Builds running right now, by the region they run in',
    labelNames: ['region'] as const,
    registers: [registry],
    collect: refresh,
  });
  const lastStart = new Gauge({
    name: 'deploysphere_build_last_start_timestamp_seconds',
    help: 'When the latest build started in the region (0: never); the queue-stuck alert reads it',
    labelNames: ['region'] as const,
    registers: [registry],
    collect: refresh,
  });
  const wait = new Gauge({
    name: 'deploysphere_build_wait_seconds',
    help: 'Queue wait (created to started) of builds started in the last hour, by region and quantile',
    labelNames: ['region', 'quantile'] as const,
    registers: [registry],
    collect: refresh,
  });

  async function read(): Promise<void> {
    const [queued, started, waits] = await Promise.all([
      db.$queryRaw<RegionRow[]>`
        SELECT "regions"[1] AS region, count(*) AS depth,
               EXTRACT(EPOCH FROM now() - min("createdAt"))::float8 AS oldest_seconds
        FROM "Deployment" WHERE "status" = 'queued' GROUP BY 1`,
      db.$queryRaw<RunningRow[]>`
        SELECT coalesce("runnerRegion", "regions"[1]) AS region,
               count(*) FILTER (WHERE "status" = 'building') AS running,
               EXTRACT(EPOCH FROM max("startedAt"))::float8 AS last_start
        FROM "Deployment" WHERE "startedAt" IS NOT NULL GROUP BY 1`,
      db.$queryRaw<WaitRow[]>`
        SELECT coalesce("runnerRegion", "regions"[1]) AS region,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM "startedAt" - "createdAt"))::float8 AS p50,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM "startedAt" - "createdAt"))::float8 AS p90
        FROM "Deployment" WHERE "startedAt" > now() - interval '1 hour' GROUP BY 1`,
    ]);
    // Configured regions always have a value (0), so alerts and panels see them from the start;
    // a region no longer configured drops out.
    const known = new Set(regions);
    for (const g of [depth, oldest, running, lastStart, wait]) g.reset();
    for (const region of regions) {
      const q = queued.find((r) => r.region === region);
      const s = started.find((r) => r.region === region);
      depth.set({ region }, Number(q?.depth ?? 0));
      oldest.set({ region }, q?.oldest_seconds ?? 0);
      running.set({ region }, Number(s?.running ?? 0));
      lastStart.set({ region }, s?.last_start ?? 0);
    }
    for (const w of waits) {
      if (!w.region || !known.has(w.region)) continue;
      if (w.p50 !== null) wait.set({ region: w.region, quantile: '0.5' }, w.p50);
      if (w.p90 !== null) wait.set({ region: w.region, quantile: '0.9' }, w.p90);
    }
  }
}

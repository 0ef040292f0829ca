import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from '../../control-plane/test/git-repo.js';
import { startTestPlatform, type TestPlatform } from '../../control-plane/test/harness.js';
import { DASHBOARDS } from '../src/export-dashboards.js';
import { panelQueries } from '../src/panels.js';

// Every panel of every dashboard, against the local platform's own Prometheus after a real
// deployment and real traffic: each query must return at least one series with a finite value.
// A panel that stays empty is listed by dashboard and title, with its query.

let t: TestPlatform;
let traffic: { stop(): Promise<void> } | undefined;

async function prometheus<T>(path: string): Promise<T> {
  const res = await fetch(`${t.platform.prometheusUrl}/api/v1/${path}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${path}: ${body.error}`);
  return body.data;
}

/** Finite values of an instant query (NaN, e.g. a quantile of no observations, is no data). */
async function values(expr: string): Promise<number[]> {
  const data = await prometheus<{ resultType: string; result: { value: [number, string] }[] }>(
    `query?query=${encodeURIComponent(expr)}`,
  );
  return data.result.map((r) => Number(r.value[1])).filter((v) => Number.isFinite(v));
}

/** Visits the site (a page, then a missing one) every 500 ms until stopped. */
function sendTraffic(host: string): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await t.visit(host, '/');
      await t.visit(host, '/no-such-page');
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

beforeAll(async () => {
  t = await startTestPlatform({ BUILD_TIMEOUT_MS: '60000' }, { prometheus: true });
  // The control plane's series are scraped before the deployment, so rates see it happen.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { activeTargets } = await prometheus<{
      activeTargets: { labels: { job: string }; health: string }[];
    }>('targets');
    const health = activeTargets.map((x) => `${x.labels.job}:${x.health}`).sort();
    if (health.join() === 'control-plane:up,node:up,postgres:up') break;
    if (Date.now() > deadline) throw new Error(`Prometheus targets not all up: ${health.join(', ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }

  const repo = await GitRepo.create({
    'site/index.html': '<h1>observed</h1>',
    'site/app.js': 'console.log(1)',
  });
  const created = await t.api('POST', '/projects', {
    slug: 'observed',
    repoUrl: repo.url,
    installCommand: 'true',
    buildCommand: 'mkdir -p dist && cp -r site/. dist/',
    regions: ['us-east-1', 'eu-west-1'],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const queued = await t.api<{ id: string }>('POST', '/projects/observed/deployments', {});
  expect(queued.status).toBe(202);
  const ready = await t.waitFor(queued.body.id, ['ready', 'error']);
  expect(ready.error).toBeNull();
  traffic = sendTraffic('observed.localhost');
}, 240_000);

afterAll(async () => {
  await traffic?.stop();
  await t?.stop();
});

describe('every dashboard panel has data on the local platform', () => {
  it('returns a non-empty result for every query of every panel', async () => {
    const pending = Object.entries(DASHBOARDS).flatMap(([file, d]) =>
      panelQueries(d).map((q) => ({ panel: `${file} / ${q.title}`, expr: q.expr })),
    );
    expect(pending.length).toBeGreaterThan(30);
    // The check itself can fail: a series nobody exports has no data.
    expect(await values('deploysphere_no_such_series')).toEqual([]);
    // Rates need two scrapes after the traffic started, and the storage listing its next round.
    const deadline = Date.now() + 150_000;
    let empty = pending;
    for (;;) {
      const still: typeof pending = [];
      for (const q of empty) if ((await values(q.expr)).length === 0) still.push(q);
      empty = still;
      if (empty.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 2_000));
    }
    expect(empty.map((q) => `${q.panel}: ${q.expr}`)).toEqual([]);
  }, 200_000);

  it('shows the deployment and the traffic, not only zeros', async () => {
    // A few panels whose value is known after one deployment and steady traffic.
    expect(
      Math.max(
        ...(await values('sum(increase(deploysphere_deployments_finished_total{status="ready"}[1h]))')),
      ),
    ).toBeGreaterThan(0.5);
    expect(
      Math.max(...(await values('sum(rate(edge_requests_total{status_class="2xx"}[5m]))'))),
    ).toBeGreaterThan(0);
    expect(
      Math.max(...(await values('sum(rate(edge_requests_total{status_class="4xx"}[5m]))'))),
    ).toBeGreaterThan(0);
    expect(Math.max(...(await values('max(deploysphere_storage_logical_bytes)')))).toBeGreaterThan(0);
    expect(
      Math.max(...(await values('sum(rate(deploysphere_clickhouse_inserts_total[5m]))'))),
    ).toBeGreaterThan(0);
    // The queue: empty again, the build started in the project's primary region, its wait known.
    expect(await values('sum(deploysphere_build_queue_depth)')).toEqual([0]);
    expect(
      await values('max(deploysphere_build_last_start_timestamp_seconds{region="us-east-1"}) > 0'),
    ).toHaveLength(1);
    expect(await values('max(deploysphere_build_last_start_timestamp_seconds{region="eu-west-1"})')).toEqual([
      0,
    ]);
    expect(
      await values('max by (quantile) (deploysphere_build_wait_seconds{region="us-east-1"})'),
    ).toHaveLength(2);
    // The dispatchers' durable consumers are reported, and have nothing pending.
    expect(
      await values('max by (consumer) (deploysphere_jetstream_consumer_pending{consumer=~"dispatch-.*"})'),
    ).toEqual([0, 0, 0]);
    // Process accounting saw the build: its CPU and its memory (git, the sandbox, cp) are not 0.
    expect(Math.max(...(await values('sum(deploysphere_build_cpu_seconds_count)')))).toBeGreaterThanOrEqual(
      1,
    );
    expect(Math.max(...(await values('sum(deploysphere_build_peak_memory_bytes_sum)')))).toBeGreaterThan(
      1024 * 1024,
    );
  });
});

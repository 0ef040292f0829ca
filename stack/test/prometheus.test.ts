import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, startEmbeddedPostgres, startPrometheus, type EmbeddedPrometheus } from '../src/index.js';

interface Target {
  labels: { job: string };
  health: string;
  lastError: string;
}

let dir: string;
let pg: Awaited<ReturnType<typeof startEmbeddedPostgres>>;
let app: Server;
let prometheus: EmbeddedPrometheus | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-prom-'));
  pg = await startEmbeddedPostgres({ dataDir: join(dir, 'pg') });
  // Stands in for the control plane's /metrics: a counter in Prometheus' text format.
  app = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end('# TYPE app_requests_total counter\napp_requests_total 42\n');
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await prometheus?.stop();
  await new Promise((resolve) => app?.close(resolve));
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function api<T>(url: string, path: string): Promise<T> {
  const res = await fetch(`${url}/api/v1/${path}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${path}: ${body.error}`);
  return body.data;
}

describe('embedded Prometheus', () => {
  it('scrapes the given jobs, node_exporter and postgres_exporter, all up', async () => {
    const port = (app.address() as AddressInfo).port;
    prometheus = await startPrometheus({
      dataDir: join(dir, 'prometheus'),
      jobs: [{ job: 'control-plane', targets: [`127.0.0.1:${port}`] }],
      postgresUrl: pg.url,
      scrapeIntervalSeconds: 1,
    });
    const { url } = prometheus;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // Every target healthy, through Prometheus' own view of them (not by asking the exporters).
    await expect
      .poll(
        async () => {
          const { activeTargets } = await api<{ activeTargets: Target[] }>(url, 'targets');
          return activeTargets.map((t) => `${t.labels.job}:${t.health}${t.lastError}`).sort();
        },
        { timeout: 30_000, interval: 250 },
      )
      .toEqual(['control-plane:up', 'node:up', 'postgres:up']);

    const sample = async (query: string) => {
      const data = await api<{ result: { value: [number, string] }[] }>(
        url,
        `query?query=${encodeURIComponent(query)}`,
      );
      return data.result.map((r) => Number(r.value[1]));
    };
    await expect.poll(() => sample('app_requests_total'), { timeout: 10_000 }).toEqual([42]);
    await expect.poll(() => sample('pg_up'), { timeout: 10_000 }).toEqual([1]);
    await expect
      .poll(async () => (await sample('node_memory_MemTotal_bytes'))[0] ?? 0, { timeout: 10_000 })
      .toBeGreaterThan(0);
  });

  it('stops every process it started', async () => {
    const pids = await childPids();
    expect(pids.length).toBe(3);
    await prometheus!.stop();
    prometheus = undefined;
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
  });

  it('fails with Prometheus’ own words on a bad rule file, and leaves no exporter behind', async () => {
    const rules = join(dir, 'bad.rules.yml');
    await writeFile(rules, 'groups:\n  - name: broken\n    rules:\n      - alert: X\n        expr: rate(\n');
    const err = await startPrometheus({
      dataDir: join(dir, 'prometheus-bad'),
      jobs: [],
      ruleFiles: [rules],
    }).then(
      async (p) => {
        await p.stop();
        throw new Error('started with a broken rule file');
      },
      (e: unknown) => e as Error,
    );
    expect(err.message).toMatch(/^prometheus exited/);
    expect(err.message).toContain('bad.rules.yml');
    expect(await childPids()).toEqual([]);
  });
});

/** The pids of Prometheus and its exporters: children of this process whose command names them. */
async function childPids(): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && cmd.some((c) => c.includes(join(dir, 'prometheus')) || /exporter/.test(c)))
        pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

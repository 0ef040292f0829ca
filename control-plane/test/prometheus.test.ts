import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { descendants, runStart, waitForOutput } from './cli-process.js';
import { startTestPlatform, type TestPlatform } from './harness.js';

// `npm start`'s Prometheus: installed from Debian's packages, its TSDB in DATA_DIR, scraping the
// control plane, node_exporter and postgres_exporter, and evaluating observability/'s alert rules.

interface Target {
  labels: { job: string };
  health: string;
  lastError: string;
  scrapeUrl: string;
}

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({}, { prometheus: true });
});
afterAll(async () => {
  await platform?.stop();
});

async function prometheusApi<T>(url: string, path: string): Promise<T> {
  const res = await fetch(`${url}/api/v1/${path}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${path}: ${body.error}`);
  return body.data;
}

describe('the local platform’s Prometheus', () => {
  it('scrapes the control plane, node_exporter and postgres_exporter, every target up', async () => {
    const url = platform.platform.prometheusUrl;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect
      .poll(
        async () => {
          const { activeTargets } = await prometheusApi<{ activeTargets: Target[] }>(url, 'targets');
          return activeTargets.map((t) => `${t.labels.job}:${t.health}${t.lastError}`).sort();
        },
        { timeout: 60_000, interval: 500 },
      )
      .toEqual(['control-plane:up', 'node:up', 'postgres:up']);

    const { activeTargets } = await prometheusApi<{ activeTargets: Target[] }>(url, 'targets');
    const controlPlane = activeTargets.find((t) => t.labels.job === 'control-plane');
    expect(controlPlane?.scrapeUrl).toBe(`${platform.platform.controlPlaneUrl}/metrics`);
  });

  it('keeps its data in DATA_DIR', async () => {
    expect((await stat(join(platform.dataDir, 'prometheus', 'data'))).isDirectory()).toBe(true);
  });

  it('evaluates the alert rules of observability/', async () => {
    const { groups } = await prometheusApi<{ groups: { name: string; rules: { name: string }[] }[] }>(
      platform.platform.prometheusUrl,
      'rules',
    );
    const alerts = groups.flatMap((g) => g.rules.map((r) => r.name));
    expect(alerts).toContain('EdgeMetricsSilent');
    expect(alerts).toContain('DiskAlmostFull');
  });

  it('starts none with PROMETHEUS_URL, and prints that one', async () => {
    // A process of its own: chDB allows one data directory per process.
    const existing = platform.platform.prometheusUrl;
    const dataDir = await mkdtemp(join(tmpdir(), 'ds-prom-url-'));
    const run = runStart({ DATA_DIR: dataDir, PORT: '0', EDGE_PORT: '0', PROMETHEUS_URL: existing });
    try {
      await waitForOutput(run, /Ready\. Press Ctrl-C to stop\./);
      expect(run.stdout()).toContain(`Prometheus  ${existing}\n`);
      expect(run.stdout()).toMatch(/✓ prometheus\s+configured/);
      expect(await readdir(dataDir)).not.toContain('prometheus');
      expect(descendants(run.child.pid!).length).toBeGreaterThan(0);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EDGE_LATENCY_BUCKETS_MS, productionHost } from '@deploysphere/contracts';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from './support/http-client.js';
import { startMetricsControlPlane, type MetricsControlPlane } from './support/metrics-control-plane.js';
import { ROOT_DOMAIN, startTestStack, type TestStack } from './support/test-stack.js';

const TOKEN = 'edge-metrics-integration-token';
const HOST = productionHost('measured', ROOT_DOMAIN);

let stack: TestStack;
let controlPlane: MetricsControlPlane;
let registry: Registry;
let failing: Server;
let failingUrl = '';
let failingHits = 0;

beforeAll(async () => {
  controlPlane = await startMetricsControlPlane(TOKEN);
  registry = controlPlane.registry;
  const metricsUrl = controlPlane.url;

  failing = createServer((req, res) => {
    failingHits++;
    req.resume();
    res.writeHead(500).end('metrics store is down');
  });
  await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
  failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;

  stack = await startTestStack({ metricsUrl, metricsToken: TOKEN, metricsFlushIntervalMs: 0 });
  await stack.deploy([HOST], { files: [{ path: 'index.html', body: '<p>measured</p>' }] });
});
afterAll(async () => {
  await stack?.stop();
  await controlPlane?.stop();
  await new Promise((resolve) => failing?.close(resolve));
});

describe('edge metrics', () => {
  it('ships request counts in batches that the control plane exposes as edge_* series', async () => {
    for (let i = 0; i < 3; i++)
      expect((await rawRequest(stack.edge.url, { host: HOST, path: '/' })).status).toBe(200);
    await rawRequest(stack.edge.url, { host: HOST, path: '/missing' });
    await rawRequest(stack.edge.url, { host: 'nobody.example', path: '/' });

    await expect
      .poll(async () => registry.metrics(), { timeout: 10_000, interval: 100 })
      .toMatch(
        new RegExp(`edge_requests_total\\{status_class="2xx",region="us-east-1",cache="hit"\\} [1-9]`),
      );
    const text = await registry.metrics();
    expect(text).toMatch(
      new RegExp(`edge_requests_total\\{status_class="2xx",region="us-east-1",cache="miss"\\} 1`),
    );
    expect(text).toMatch(/edge_requests_total\{status_class="4xx",region="us-east-1"/);
    expect(text).toMatch(/edge_requests_total\{status_class="4xx",region="_none",cache="none"\} 1/);
    expect(text).toMatch(/edge_response_bytes_total\{region="us-east-1",cache="(hit|miss)"\} \d+/);
    expect(text).not.toContain('host=');
    expect(text).toMatch(/edge_request_duration_seconds_count\{region="us-east-1",cache="miss"\} \d+/);
  });

  it('keeps the series count bounded however many hostnames get traffic', async () => {
    const hosts = Array.from({ length: 500 }, (_, i) => productionHost(`tenant-${i}`, ROOT_DOMAIN));
    await stack.deploy(hosts, { files: [{ path: 'index.html', body: '<p>tenant</p>' }] });
    const edgeSeries = async () => {
      const metrics = await registry.getMetricsAsJSON();
      return metrics.filter((m) => m.name.startsWith('edge_')).reduce((n, m) => n + m.values.length, 0);
    };
    const served = async () => {
      const requests = (await registry.getMetricsAsJSON()).find((m) => m.name === 'edge_requests_total');
      return (requests?.values ?? []).reduce((n, v) => n + v.value, 0);
    };
    const before = await served();
    // 500 hosts, two requests each (the second one served from the edge cache), 25 at a time.
    for (let i = 0; i < hosts.length; i += 25) {
      const results = await Promise.all(
        hosts
          .slice(i, i + 25)
          .flatMap((host) => [
            rawRequest(stack.edge.url, { host, path: '/' }),
            rawRequest(stack.edge.url, { host, path: '/missing' }),
          ]),
      );
      expect(results.map((r) => r.status).sort()).toEqual([
        ...new Array<number>(25).fill(200),
        ...new Array<number>(25).fill(404),
      ]);
    }
    await expect.poll(served, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(before + 1000);

    // Every host still reaches the per-project store (ClickHouse in production) through the batches.
    for (const host of hosts) expect(controlPlane.hostsSeen).toContain(host);
    // …but none becomes a label: the edge_* series are bounded by status class (5) × region (3
    // plus _none) × cache result (3) per metric, whatever the number of tenants.
    const text = await registry.metrics();
    expect(text).not.toContain('tenant-');
    const series = await edgeSeries();
    const perMetricBound = 5 * 4 * 3 + 4 * 3 * (EDGE_LATENCY_BUCKETS_MS.length + 3) + 4 * 3 + 4 + 4 + 2;
    expect(series).toBeLessThanOrEqual(perMetricBound);
    expect(series).toBeLessThan(hosts.length);
  });

  it('counts a failover per region when a region fails and the next one serves', async () => {
    const host = productionHost('failing-over', ROOT_DOMAIN);
    await stack.deploy([host], { files: [{ path: 'index.html', body: '<p>from elsewhere</p>' }] });
    const failovers = async () => {
      const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'edge_failovers_total');
      return m?.values.find((v) => v.labels.region === 'us-east-1')?.value ?? 0;
    };
    const before = await failovers();
    stack.region('us-east-1').proxy.mode = 'error';
    try {
      const res = await rawRequest(stack.edge.url, { host, path: '/' });
      expect(res.status).toBe(200);
      expect(res.body.toString()).toContain('from elsewhere');
    } finally {
      stack.region('us-east-1').proxy.mode = 'pass';
    }
    await expect.poll(failovers, { timeout: 10_000, interval: 100 }).toBeGreaterThan(before);
    expect(await registry.metrics()).not.toMatch(
      /edge_failovers_total\{region="(eu-west-1|ap-southeast-1)"\} [1-9]/,
    );
  });

  it('never lets a failing metrics endpoint affect visitors', async () => {
    for (const metricsUrl of [failingUrl, 'http://127.0.0.1:9']) {
      const edge = await stack.startEdge({ metricsUrl, metricsToken: TOKEN, metricsFlushIntervalMs: 0 });
      await stack.edge.routes.get(HOST).then((record) => record && edge.routes.put(HOST, record));
      for (let i = 0; i < 5; i++) {
        const res = await rawRequest(edge.url, { host: HOST, path: '/' });
        expect(res.status).toBe(200);
        expect(res.body.toString()).toContain('measured');
      }
    }
    await expect.poll(() => failingHits, { timeout: 10_000 }).toBeGreaterThan(0);
  });
});

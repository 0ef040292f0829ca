import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { productionHost } from '@deploysphere/contracts';
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
        new RegExp(
          `edge_requests_total\\{host="${HOST}",status_class="2xx",region="us-east-1",cache="hit"\\} [1-9]`,
        ),
      );
    const text = await registry.metrics();
    expect(text).toMatch(
      new RegExp(
        `edge_requests_total\\{host="${HOST}",status_class="2xx",region="us-east-1",cache="miss"\\} 1`,
      ),
    );
    expect(text).toMatch(new RegExp(`edge_requests_total\\{host="${HOST}",status_class="4xx"`));
    expect(text).toMatch(
      /edge_requests_total\{host="_unknown",status_class="4xx",region="_none",cache="none"\} 1/,
    );
    expect(text).toMatch(
      /edge_response_bytes_total\{host="measured\.edge\.test",region="us-east-1",cache="(hit|miss)"\} \d+/,
    );
    expect(text).toMatch(/edge_request_duration_seconds_count\{region="us-east-1",cache="miss"\} \d+/);
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

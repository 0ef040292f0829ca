import { EDGE_LATENCY_BUCKETS_MS, type EdgeMetricsBatch } from '@deploysphere/contracts';
import fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorHandler } from '../plugins/error-handler.js';
import { zodSchemas } from '../plugins/zod-schemas.js';
import { edgeMetricsRoutes } from './edge-metrics-routes.js';

const TOKEN = 'edge-metrics-token-for-tests';

function buckets(...pairs: [index: number, count: number][]): number[] {
  const counts = new Array<number>(EDGE_LATENCY_BUCKETS_MS.length + 1).fill(0);
  for (const [index, count] of pairs) counts[index] = count;
  return counts;
}

const batch = (overrides: Partial<EdgeMetricsBatch['series'][number]> = {}): EdgeMetricsBatch => ({
  v: 1,
  source: 'isolate-test',
  sentAt: new Date().toISOString(),
  series: [
    {
      host: 'shop.example.com',
      statusClass: '2xx',
      region: 'eu-west-1',
      cache: 'hit',
      requests: 3,
      bytes: 3000,
      latencyMsSum: 4.5,
      latencyBuckets: buckets([0, 2], [1, 1]),
      ...overrides,
    },
  ],
});

let app: FastifyInstance;
let registry: Registry;

beforeEach(async () => {
  registry = new Registry();
  app = fastify();
  await app.register(zodSchemas);
  await app.register(errorHandler);
  await app.register(edgeMetricsRoutes, { token: TOKEN, registry, regions: ['eu-west-1'] });
  await app.ready();
});
afterEach(async () => {
  await app.close();
});

const post = (payload: unknown, token: string | null = TOKEN) =>
  app.inject({
    method: 'POST',
    url: '/internal/edge-metrics',
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    payload: payload as object,
  });

describe('POST /internal/edge-metrics', () => {
  it('accepts a batch and exposes edge_* series', async () => {
    expect((await post(batch())).statusCode).toBe(204);
    expect(
      (await post(batch({ requests: 2, latencyBuckets: buckets([13, 2]), latencyMsSum: 30_000 }))).statusCode,
    ).toBe(204);
    const text = await registry.metrics();
    expect(text).toContain('edge_requests_total{status_class="2xx",region="eu-west-1",cache="hit"} 5');
    expect(text).toContain('edge_response_bytes_total{region="eu-west-1",cache="hit"} 6000');
    expect(text).toContain(
      'edge_request_duration_seconds_bucket{region="eu-west-1",cache="hit",le="0.001"} 2',
    );
    expect(text).toContain(
      'edge_request_duration_seconds_bucket{region="eu-west-1",cache="hit",le="0.002"} 3',
    );
    expect(text).toContain('edge_request_duration_seconds_bucket{region="eu-west-1",cache="hit",le="10"} 3');
    expect(text).toContain(
      'edge_request_duration_seconds_bucket{region="eu-west-1",cache="hit",le="+Inf"} 5',
    );
    expect(text).toContain('edge_request_duration_seconds_sum{region="eu-west-1",cache="hit"} 30.0045');
    expect(text).toContain('edge_request_duration_seconds_count{region="eu-west-1",cache="hit"} 5');
    expect(text).toContain('edge_metrics_batches_total 2');
  });

  it('labels no host, and counts a region the platform does not know as _other', async () => {
    for (const host of ['a.example', 'b.example', 'c.example', 'd.example']) {
      expect((await post(batch({ host }))).statusCode).toBe(204);
    }
    expect((await post(batch({ region: 'mars-north-1' }))).statusCode).toBe(204);
    const text = await registry.metrics();
    expect(text).not.toContain('host=');
    expect(text).toContain('edge_requests_total{status_class="2xx",region="eu-west-1",cache="hit"} 12');
    expect(text).toContain('edge_requests_total{status_class="2xx",region="_other",cache="hit"} 3');
    expect(text).not.toContain('mars-north-1');
  });

  it.each([
    ['no token', null],
    ['a wrong token', 'not-the-token-at-all'],
    ['an empty token', ''],
  ])('rejects %s with 401', async (_name, token) => {
    const res = await post(batch(), token);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it.each([
    [
      'statusClass',
      { ...batch(), series: [{ ...batch().series[0], statusClass: '6xx' }] },
      'series.0.statusClass',
    ],
    ['requests', { ...batch(), series: [{ ...batch().series[0], requests: -1 }] }, 'series.0.requests'],
    [
      'latencyBuckets',
      { ...batch(), series: [{ ...batch().series[0], latencyBuckets: [1] }] },
      'series.0.latencyBuckets',
    ],
    ['version', { ...batch(), v: 2 }, 'v'],
    ['sentAt', { ...batch(), sentAt: 'yesterday' }, 'sentAt'],
  ])('answers 400 naming the field for a bad %s', async (_name, payload, field) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'bad_request', field } });
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/internal/edge-metrics',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(res.statusCode).toBe(400);
  });
});

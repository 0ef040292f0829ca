import { EdgeMetricsBatchSchema } from '@deploysphere/contracts';
import { describe, expect, it, vi } from 'vitest';
import { MetricsShipper } from './metrics-shipper.js';

const sample = (status: number, latencyMs: number) => ({
  host: 'shop.example',
  status,
  region: 'eu-west-1',
  cache: 'hit' as const,
  bytes: 100,
  latencyMs,
});

describe('MetricsShipper', () => {
  it('aggregates samples and posts one valid batch when the interval has passed', async () => {
    const posted: Request[] = [];
    let now = 0;
    const shipper = new MetricsShipper({
      metricsUrl: 'http://control.test/',
      token: 'secret-token',
      flushIntervalMs: 1000,
      now: () => now,
      fetch: async (request) => {
        posted.push(request);
        return new Response(null, { status: 204 });
      },
    });
    shipper.record(sample(200, 1));
    shipper.record(sample(200, 30));
    shipper.record(sample(404, 20_000));
    expect(shipper.flushIfDue()).toBeUndefined();
    now = 1000;
    await shipper.flushIfDue();
    expect(posted).toHaveLength(1);
    const request = posted[0]!;
    expect(request.url).toBe('http://control.test/internal/edge-metrics');
    expect(request.headers.get('authorization')).toBe('Bearer secret-token');
    const batch = EdgeMetricsBatchSchema.parse(await request.json());
    const ok = batch.series.find((s) => s.statusClass === '2xx');
    expect(ok).toMatchObject({ requests: 2, bytes: 200, latencyMsSum: 31 });
    expect(ok?.latencyBuckets[0]).toBe(1);
    expect(batch.series.find((s) => s.statusClass === '4xx')?.latencyBuckets.at(-1)).toBe(1);
    expect(shipper.flushIfDue()).toBeUndefined();
  });

  it('ships integrity failures per region, also in a window without requests', async () => {
    const posted: Request[] = [];
    const shipper = new MetricsShipper({
      metricsUrl: 'http://control.test',
      token: 't',
      flushIntervalMs: 0,
      now: () => 0,
      fetch: async (request) => {
        posted.push(request);
        return new Response(null, { status: 204 });
      },
    });
    shipper.recordIntegrityFailure('us-east-1');
    shipper.recordIntegrityFailure('us-east-1');
    shipper.recordIntegrityFailure('eu-west-1');
    await shipper.flushIfDue();
    shipper.record(sample(200, 1));
    await shipper.flushIfDue();
    const [first, second] = await Promise.all(
      posted.map(async (r) => EdgeMetricsBatchSchema.parse(await r.json())),
    );
    expect(first?.series).toEqual([]);
    expect(first?.integrityFailures).toEqual([
      { region: 'us-east-1', failures: 2 },
      { region: 'eu-west-1', failures: 1 },
    ]);
    expect(second?.integrityFailures).toBeUndefined();
  });

  it('swallows failures, drops the window and warns at most once a minute', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const shipper = new MetricsShipper({
      metricsUrl: 'http://control.test',
      token: 't',
      flushIntervalMs: 0,
      now: () => 0,
      fetch: async () => {
        throw new TypeError('connection refused');
      },
    });
    for (let i = 0; i < 3; i++) {
      shipper.record(sample(200, 1));
      await expect(shipper.flushIfDue()).resolves.toBeUndefined();
    }
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });
});

import { EDGE_LATENCY_BUCKETS_MS } from '@deploysphere/contracts';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createEdgeMetrics } from './edge-metrics-collectors.js';

const batch = (integrityFailures?: { region: string; failures: number }[]) => ({
  v: 1 as const,
  sentAt: new Date().toISOString(),
  series: [
    {
      host: 'shop.example.com',
      statusClass: '2xx' as const,
      region: 'eu-west-1',
      cache: 'miss' as const,
      requests: 1,
      bytes: 10,
      latencyMsSum: 3,
      latencyBuckets: new Array<number>(EDGE_LATENCY_BUCKETS_MS.length + 1).fill(0),
    },
  ],
  ...(integrityFailures ? { integrityFailures } : {}),
});

describe('createEdgeMetrics', () => {
  it('adds up integrity failures per region across batches', async () => {
    const registry = new Registry();
    const metrics = createEdgeMetrics(registry);
    metrics.ingest(batch([{ region: 'us-east-1', failures: 2 }]));
    metrics.ingest(
      batch([
        { region: 'us-east-1', failures: 1 },
        { region: 'ap-southeast-1', failures: 4 },
      ]),
    );
    metrics.ingest(batch());
    const text = await registry.metrics();
    expect(text).toContain('edge_integrity_failures_total{region="us-east-1"} 3');
    expect(text).toContain('edge_integrity_failures_total{region="ap-southeast-1"} 4');
    expect(text).toContain('edge_metrics_batches_total 3');
  });

  it('adds up failovers per region, starting every known region at 0', async () => {
    const registry = new Registry();
    const metrics = createEdgeMetrics(registry, { regions: ['us-east-1', 'eu-west-1'] });
    expect(await registry.metrics()).toContain('edge_failovers_total{region="eu-west-1"} 0');
    metrics.ingest({ ...batch(), failovers: [{ region: 'us-east-1', failovers: 2 }] });
    metrics.ingest({ ...batch(), failovers: [{ region: 'us-east-1', failovers: 1 }] });
    const text = await registry.metrics();
    expect(text).toContain('edge_failovers_total{region="us-east-1"} 3');
    expect(text).toContain('edge_failovers_total{region="eu-west-1"} 0');
  });
});

import { EDGE_LATENCY_BUCKETS_MS, EDGE_NO_REGION, type EdgeMetricsBatch } from '@deploysphere/contracts';
import { Counter, Gauge, type Registry } from 'prom-client';
import { PreBucketedHistogram } from './pre-bucketed-histogram.js';

/** Region label for a region the platform does not know (a misconfigured or stale edge). */
export const EDGE_OTHER_REGION = '_other';

export interface EdgeMetrics {
  ingest(batch: EdgeMetricsBatch): void;
}

/**
 * Registers the `edge_*` series in `registry` and returns what feeds them.
 *
 * No series carries a host or project label. On a multi-tenant platform every new site would add
 * series for ever (and a visitor can invent Host headers), which is how Prometheus servers fall
 * over. The labels are status class (5 values), cache result (3) and region (the configured ones,
 * plus `_none` and `_other`), so the series count depends on the platform's shape, never on its
 * tenants. Per-host and per-project detail goes to ClickHouse (the Traffic tab) from the same
 * batches. Without `regions`, any region name is kept (tests that register the collectors alone).
 */
export function createEdgeMetrics(
  registry: Registry,
  options: { regions?: readonly string[] } = {},
): EdgeMetrics {
  const known = options.regions ? new Set([...options.regions, EDGE_NO_REGION]) : undefined;
  const regionLabel = (region: string) => (!known || known.has(region) ? region : EDGE_OTHER_REGION);
  const requests = new Counter({
    name: 'edge_requests_total',
    help: 'Requests answered by the edge, by status class, serving region and edge cache result',
    labelNames: ['status_class', 'region', 'cache'] as const,
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'edge_response_bytes_total',
    help: 'Response body bytes sent by the edge, by serving region and edge cache result',
    labelNames: ['region', 'cache'] as const,
    registers: [registry],
  });
  const duration = new PreBucketedHistogram({
    name: 'edge_request_duration_seconds',
    help: 'Edge request latency (first byte), by serving region and edge cache result',
    labelNames: ['region', 'cache'] as const,
    buckets: EDGE_LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
    registry,
  });
  const integrityFailures = new Counter({
    name: 'edge_integrity_failures_total',
    help: 'Blobs a region served whose bytes did not hash to their key; the edge failed over and did not serve them',
    labelNames: ['region'] as const,
    registers: [registry],
  });
  const failovers = new Counter({
    name: 'edge_failovers_total',
    help: 'Times a region failed an edge request (error, timeout, corrupt object) and the edge tried the next region',
    labelNames: ['region'] as const,
    registers: [registry],
  });
  const batches = new Counter({
    name: 'edge_metrics_batches_total',
    help: 'Metric batches received from edge isolates',
    registers: [registry],
  });
  const lastBatch = new Gauge({
    name: 'edge_metrics_last_batch_timestamp_seconds',
    help: 'When the last edge metrics batch arrived (alert when it stops moving)',
    registers: [registry],
  });

  // Known regions have an integrity-failure count from the start, at 0: an increase() over it is
  // then 0, not "no data", and the first failure shows as a step.
  for (const region of options.regions ?? []) {
    integrityFailures.inc({ region }, 0);
    failovers.inc({ region }, 0);
  }

  return {
    ingest(batch) {
      for (const s of batch.series) {
        const region = regionLabel(s.region);
        requests.inc({ status_class: s.statusClass, region, cache: s.cache }, s.requests);
        if (s.bytes > 0) bytes.inc({ region, cache: s.cache }, s.bytes);
        duration.add({ region, cache: s.cache }, s.latencyBuckets, s.latencyMsSum / 1000);
      }
      for (const f of batch.integrityFailures ?? [])
        integrityFailures.inc({ region: regionLabel(f.region) }, f.failures);
      for (const f of batch.failovers ?? []) failovers.inc({ region: regionLabel(f.region) }, f.failovers);
      batches.inc();
      lastBatch.setToCurrentTime();
    },
  };
}

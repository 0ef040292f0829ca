import { EDGE_LATENCY_BUCKETS_MS, type EdgeMetricsBatch } from '@deploysphere/contracts';
import { Counter, Gauge, type Registry } from 'prom-client';
import { PreBucketedHistogram } from './pre-bucketed-histogram.js';

/** Beyond this many distinct hosts, new ones are counted as "_other": a label set per host must stay bounded. */
export const DEFAULT_MAX_HOSTS = 2000;
export const OTHER_HOSTS_LABEL = '_other';

export interface EdgeMetrics {
  ingest(batch: EdgeMetricsBatch): void;
}

/** Registers the `edge_*` series in `registry` and returns what feeds them. */
export function createEdgeMetrics(registry: Registry, options: { maxHosts?: number } = {}): EdgeMetrics {
  const requests = new Counter({
    name: 'edge_requests_total',
    help: 'Requests answered by the edge, by host, status class, serving region and edge cache result',
    labelNames: ['host', 'status_class', 'region', 'cache'] as const,
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'edge_response_bytes_total',
    help: 'Response body bytes sent by the edge, by host, serving region and edge cache result',
    labelNames: ['host', 'region', 'cache'] as const,
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

  const maxHosts = options.maxHosts ?? DEFAULT_MAX_HOSTS;
  const seenHosts = new Set<string>();
  const hostLabel = (host: string): string => {
    if (seenHosts.has(host)) return host;
    if (seenHosts.size >= maxHosts) return OTHER_HOSTS_LABEL;
    seenHosts.add(host);
    return host;
  };

  return {
    ingest(batch) {
      for (const s of batch.series) {
        const host = hostLabel(s.host);
        requests.inc({ host, status_class: s.statusClass, region: s.region, cache: s.cache }, s.requests);
        if (s.bytes > 0) bytes.inc({ host, region: s.region, cache: s.cache }, s.bytes);
        duration.add({ region: s.region, cache: s.cache }, s.latencyBuckets, s.latencyMsSum / 1000);
      }
      for (const f of batch.integrityFailures ?? []) integrityFailures.inc({ region: f.region }, f.failures);
      batches.inc();
      lastBatch.setToCurrentTime();
    },
  };
}

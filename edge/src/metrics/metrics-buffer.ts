import {
  EDGE_LATENCY_BUCKETS_MS,
  type EdgeCacheStatus,
  type EdgeFailovers,
  type EdgeIntegrityFailures,
  type EdgeMetricSeries,
  type EdgeStatusClass,
} from '@deploysphere/contracts';

export interface RequestSample {
  host: string;
  status: number;
  region: string;
  cache: EdgeCacheStatus;
  bytes: number;
  latencyMs: number;
}

export function statusClass(status: number): EdgeStatusClass {
  if (status < 200) return '1xx';
  if (status < 300) return '2xx';
  if (status < 400) return '3xx';
  if (status < 500) return '4xx';
  return '5xx';
}

/**
 * Counts requests per (host, status class, region, cache), and blobs that failed verification per
 * region, since the last drain. Aggregating in the isolate keeps a batch's size bounded by the
 * number of label sets, not by traffic.
 */
export class MetricsBuffer {
  private series = new Map<string, EdgeMetricSeries>();
  /** Blobs per region whose bytes failed verification. */
  private integrityFailures = new Map<string, number>();
  /** Times a region failed and the request moved on to the next one. */
  private failovers = new Map<string, number>();
  private openedAt: number | undefined;

  record(sample: RequestSample, now: number): void {
    const cls = statusClass(sample.status);
    const key = `${sample.host}\n${cls}\n${sample.region}\n${sample.cache}`;
    let entry = this.series.get(key);
    if (!entry) {
      entry = {
        host: sample.host,
        statusClass: cls,
        region: sample.region,
        cache: sample.cache,
        requests: 0,
        bytes: 0,
        latencyMsSum: 0,
        latencyBuckets: new Array<number>(EDGE_LATENCY_BUCKETS_MS.length + 1).fill(0),
      };
      this.series.set(key, entry);
    }
    entry.requests += 1;
    entry.bytes += sample.bytes;
    entry.latencyMsSum += sample.latencyMs;
    const bucket = EDGE_LATENCY_BUCKETS_MS.findIndex((bound) => sample.latencyMs <= bound);
    const index = bucket === -1 ? EDGE_LATENCY_BUCKETS_MS.length : bucket;
    entry.latencyBuckets[index] = (entry.latencyBuckets[index] ?? 0) + 1;
    this.openedAt ??= now;
  }

  recordIntegrityFailure(region: string, now: number): void {
    this.integrityFailures.set(region, (this.integrityFailures.get(region) ?? 0) + 1);
    this.openedAt ??= now;
  }

  recordFailover(region: string, now: number): void {
    this.failovers.set(region, (this.failovers.get(region) ?? 0) + 1);
    this.openedAt ??= now;
  }

  get seriesCount(): number {
    return this.series.size + this.integrityFailures.size + this.failovers.size;
  }

  /** When the oldest undrained sample was recorded. */
  get since(): number | undefined {
    return this.openedAt;
  }

  drain(): {
    series: EdgeMetricSeries[];
    integrityFailures: EdgeIntegrityFailures[];
    failovers: EdgeFailovers[];
  } {
    const drained = {
      series: [...this.series.values()],
      integrityFailures: [...this.integrityFailures].map(([region, failures]) => ({ region, failures })),
      failovers: [...this.failovers].map(([region, failovers]) => ({ region, failovers })),
    };
    this.series = new Map();
    this.integrityFailures = new Map();
    this.failovers = new Map();
    this.openedAt = undefined;
    return drained;
  }
}

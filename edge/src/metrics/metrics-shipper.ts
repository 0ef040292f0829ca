import { EDGE_METRICS_PATH, type EdgeMetricsBatch } from '@deploysphere/contracts';
import type { FetchLike } from '../origin/s3-origin.js';
import { MetricsBuffer, type RequestSample } from './metrics-buffer.js';

export interface MetricsShipperOptions {
  metricsUrl: string;
  token: string;
  flushIntervalMs: number;
  /** Flush early once this many label sets have accumulated. */
  maxSeries?: number;
  timeoutMs?: number;
  fetch?: FetchLike;
  now?: () => number;
}

/**
 * Ships request metrics to the control plane. A Worker has no background timers, so a flush
 * happens on the first request after the interval, inside ctx.waitUntil: the visitor's response
 * is already on its way. A failed post drops that window's counts (logged): holding them would
 * grow memory during a control-plane outage, and metrics must never cost a visitor anything.
 */
export class MetricsShipper {
  private readonly buffer = new MetricsBuffer();
  private readonly source = `isolate-${Math.random().toString(36).slice(2, 10)}`;
  private lastWarningAt = Number.NEGATIVE_INFINITY;
  private droppedSinceWarning = 0;

  constructor(private readonly options: MetricsShipperOptions) {}

  record(sample: RequestSample): void {
    this.buffer.record(sample, this.now());
  }

  /** A region failed a request, which moved on to the next region. */
  recordFailover(region: string): void {
    this.buffer.recordFailover(region, this.now());
  }

  /** A region served a blob whose bytes did not hash to its key. */
  recordIntegrityFailure(region: string): void {
    this.buffer.recordIntegrityFailure(region, this.now());
  }

  /** A promise to hand to waitUntil when a batch is due; undefined when there is nothing to do. */
  flushIfDue(): Promise<void> | undefined {
    const since = this.buffer.since;
    if (since === undefined) return undefined;
    const due =
      this.now() - since >= this.options.flushIntervalMs ||
      this.buffer.seriesCount >= (this.options.maxSeries ?? 1000);
    return due ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    const { series, integrityFailures, failovers } = this.buffer.drain();
    if (series.length === 0 && integrityFailures.length === 0 && failovers.length === 0) return;
    const batch: EdgeMetricsBatch = {
      v: 1,
      source: this.source,
      sentAt: new Date(this.now()).toISOString(),
      series,
      ...(integrityFailures.length > 0 ? { integrityFailures } : {}),
      ...(failovers.length > 0 ? { failovers } : {}),
    };
    const url = `${this.options.metricsUrl.replace(/\/+$/, '')}${EDGE_METRICS_PATH}`;
    try {
      const response = await (this.options.fetch ?? fetch)(
        new Request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.token}` },
          body: JSON.stringify(batch),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
        }),
      );
      await response.body?.cancel().catch(() => undefined);
      if (!response.ok) this.warn(`rejected with status ${response.status}`, series.length);
    } catch (error) {
      this.warn(String(error), series.length);
    }
  }

  /** At most one warning a minute per isolate: a control-plane outage must not flood the logs. */
  private warn(reason: string, series: number): void {
    this.droppedSinceWarning += series;
    if (this.now() - this.lastWarningAt < 60_000) return;
    console.warn('edge metrics post failed; series dropped since the last warning', {
      reason,
      dropped: this.droppedSinceWarning,
    });
    this.lastWarningAt = this.now();
    this.droppedSinceWarning = 0;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

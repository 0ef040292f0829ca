import { Histogram, type LabelValues, type Registry } from 'prom-client';

type HistogramSnapshot<T extends string> = Awaited<ReturnType<Histogram<T>['get']>>;

interface Series<T extends string> {
  labels: LabelValues<T>;
  /** Non-cumulative counts per bucket, the last one for +Inf. */
  counts: number[];
  sum: number;
}

/**
 * A Prometheus histogram fed with bucket counts that were already aggregated elsewhere (the edge
 * counts per isolate and ships the counts). prom-client's Histogram only takes single observations,
 * which would lose the sum, so this keeps its own series and renders them in the same format.
 */
export class PreBucketedHistogram<T extends string> extends Histogram<T> {
  private readonly series = new Map<string, Series<T>>();
  private readonly bounds: readonly number[];
  private readonly metricName: string;
  private readonly helpText: string;

  constructor(config: {
    name: string;
    help: string;
    labelNames: readonly T[];
    buckets: readonly number[];
    registry: Registry;
  }) {
    super({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames,
      buckets: [...config.buckets],
      registers: [config.registry],
    });
    this.bounds = config.buckets;
    this.metricName = config.name;
    this.helpText = config.help;
  }

  /** Adds one shipped window: `counts` has one entry per bucket plus one for +Inf. */
  add(labels: LabelValues<T>, counts: readonly number[], sum: number): void {
    if (counts.length !== this.bounds.length + 1) {
      throw new RangeError(`expected ${this.bounds.length + 1} bucket counts, got ${counts.length}`);
    }
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels, counts: new Array<number>(counts.length).fill(0), sum: 0 };
      this.series.set(key, entry);
    }
    counts.forEach((count, i) => {
      if (entry) entry.counts[i] = (entry.counts[i] ?? 0) + count;
    });
    entry.sum += sum;
  }

  override async get(): Promise<HistogramSnapshot<T>> {
    const values: HistogramSnapshot<T>['values'] = [];
    for (const { labels, counts, sum } of this.series.values()) {
      let cumulative = 0;
      counts.forEach((count, i) => {
        cumulative += count;
        const le = i < this.bounds.length ? (this.bounds[i] ?? 0) : '+Inf';
        // `le` is not one of T: prom-client's own histogram adds it the same way.
        values.push({
          labels: { ...labels, le } as LabelValues<T>,
          value: cumulative,
          metricName: `${this.metricName}_bucket`,
        });
      });
      values.push({ labels, value: sum, metricName: `${this.metricName}_sum` });
      values.push({ labels, value: cumulative, metricName: `${this.metricName}_count` });
    }
    // The typings want a `collect` hook and the MetricType enum; the registry only reads these fields.
    return {
      name: this.metricName,
      help: this.helpText,
      type: 'histogram',
      aggregator: 'sum',
      values,
    } as unknown as HistogramSnapshot<T>;
  }

  /** What prom-client's registry renders text from (absent from its typings); same data as get(). */
  async getForPromString(): Promise<HistogramSnapshot<T>> {
    return this.get();
  }

  override reset(): void {
    // prom-client's constructor calls reset() before this class's fields exist.
    (this.series as Map<string, Series<T>> | undefined)?.clear();
    super.reset();
  }
}

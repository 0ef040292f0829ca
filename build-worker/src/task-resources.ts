import type { BuildEvent, BuildResources } from '@deploysphere/contracts';
import type { EventSink } from './events.js';

/** Docker's stats per container, as the task metadata endpoint v4 answers `/task/stats`. */
interface ContainerStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; max_usage?: number };
}

/** One read may take this long; the metadata endpoint is on the task's own link. */
const READ_TIMEOUT_MS = 2_000;
/** How often the peak is sampled: cgroup v2 hosts report no max_usage, only the current usage. */
const SAMPLE_INTERVAL_MS = 5_000;

/**
 * What the whole task used, from ECS's task metadata endpoint (v4): CPU nanoseconds and memory
 * of every container, which on Fargate is the task's cgroup, so the build's every process counts
 * and nothing else does. Nothing outside the task can read these, so the worker reports them.
 * `max_usage` (cgroup v1) is exact; where it is absent, the peak is the highest sampled usage.
 */
export class TaskResourceSampler {
  private peakMemoryBytes = 0;
  private cpuSeconds = 0;
  private readings = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly metadataUri: string,
    private readonly intervalMs = SAMPLE_INTERVAL_MS,
  ) {
    void this.read();
    this.timer = setInterval(() => void this.read(), this.intervalMs);
    this.timer.unref();
  }

  /** Reads once more and answers the totals; undefined when the endpoint never answered. */
  async current(): Promise<BuildResources | undefined> {
    await this.read();
    if (this.readings === 0) return undefined;
    return { cpuSeconds: this.cpuSeconds, peakMemoryBytes: this.peakMemoryBytes, source: 'task-metadata' };
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async read(): Promise<void> {
    let stats: Record<string, ContainerStats | null>;
    try {
      const res = await fetch(`${this.metadataUri}/task/stats`, {
        signal: AbortSignal.timeout(READ_TIMEOUT_MS),
      });
      if (!res.ok) return;
      stats = (await res.json()) as Record<string, ContainerStats | null>;
    } catch {
      // Missing figures are not worth a build: the report simply goes without them.
      return;
    }
    let cpuNs = 0;
    let memory = 0;
    for (const c of Object.values(stats)) {
      cpuNs += c?.cpu_stats?.cpu_usage?.total_usage ?? 0;
      memory += Math.max(c?.memory_stats?.max_usage ?? 0, c?.memory_stats?.usage ?? 0);
    }
    this.readings++;
    this.cpuSeconds = Math.max(this.cpuSeconds, cpuNs / 1e9);
    this.peakMemoryBytes = Math.max(this.peakMemoryBytes, Math.round(memory));
  }
}

/**
 * Adds the task's resources to the build's outcome (`uploaded`, `skipped`, `failed`) on its way
 * out, so the control plane records them with the outcome; every other event passes unchanged.
 */
export class ResourceReportingSink implements EventSink {
  constructor(
    private readonly inner: EventSink,
    private readonly sampler: TaskResourceSampler,
  ) {}

  async publish(event: BuildEvent): Promise<void> {
    if ((event.type === 'uploaded' || event.type === 'skipped' || event.type === 'failed') && event.stats) {
      const resources = await this.sampler.current();
      if (resources) return this.inner.publish({ ...event, stats: { ...event.stats, resources } });
    }
    return this.inner.publish(event);
  }
}

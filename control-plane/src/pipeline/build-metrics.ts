import {
  BuildResourcesSchema,
  DeploymentPhaseSchema,
  TERMINAL_STATUSES,
  type BuildResources,
  type BuildStats,
  type DeploymentStatus,
} from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Build KPIs for Prometheus; the Grafana dashboard in observability/ reads these names. */
export class BuildMetrics {
  private readonly finished: Counter<'status'>;
  private readonly phaseSeconds: Histogram<'phase'>;
  private readonly bytes: Counter<'kind'>;
  private readonly cacheRestores: Counter<'restored'>;
  private readonly watchdog: Counter<'action'>;
  private readonly cpuSeconds: Histogram;
  private readonly peakMemory: Histogram;

  constructor(registry: Registry, db: Db) {
    this.finished = new Counter({
      name: 'deploysphere_deployments_finished_total',
      help: 'Deployments that reached a terminal status',
      labelNames: ['status'],
      registers: [registry],
    });
    this.phaseSeconds = new Histogram({
      name: 'deploysphere_build_phase_duration_seconds',
      help: 'Duration of each phase of successful builds',
      labelNames: ['phase'],
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    });
    this.bytes = new Counter({
      name: 'deploysphere_build_output_bytes_total',
      help: 'Bytes of build output (kind=output) and blob bytes actually uploaded (kind=uploaded)',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.cacheRestores = new Counter({
      name: 'deploysphere_build_cache_restores_total',
      help: 'What the build cache restored for successful builds: exact (node_modules too), partial or none',
      labelNames: ['restored'],
      registers: [registry],
    });
    this.watchdog = new Counter({
      name: 'deploysphere_watchdog_interventions_total',
      help: "The watchdog's interventions: a silent build failed (failed_silent) or a lost job queued again (requeued)",
      labelNames: ['action'],
      registers: [registry],
    });
    this.cpuSeconds = new Histogram({
      name: 'deploysphere_build_cpu_seconds',
      help: 'CPU seconds (user + system) of a build, every process of it (source: process-accounting for local builds, task-metadata for ECS tasks)',
      labelNames: ['source'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600],
      registers: [registry],
    });
    this.peakMemory = new Histogram({
      name: 'deploysphere_build_peak_memory_bytes',
      help: 'Peak resident memory of a build, every process of it (source: process-accounting for local builds, task-metadata for ECS tasks)',
      labelNames: ['source'],
      buckets: [64, 128, 256, 512, 1024, 2048, 4096, 8192].map((mb) => mb * 1024 * 1024),
      registers: [registry],
    });
    // Every label value that can occur is there from the start, at 0: rates and ratios then have a
    // base before the first build, and a dashboard shows 0 rather than "no data".
    for (const phase of DeploymentPhaseSchema.options) this.phaseSeconds.zero({ phase });
    for (const source of BuildResourcesSchema.shape.source.options) {
      this.cpuSeconds.zero({ source });
      this.peakMemory.zero({ source });
    }
    for (const restored of ['exact', 'partial', 'none']) this.cacheRestores.inc({ restored }, 0);
    for (const status of TERMINAL_STATUSES) this.finished.inc({ status }, 0);
    for (const action of ['failed_silent', 'requeued']) this.watchdog.inc({ action }, 0);
    for (const kind of ['output', 'uploaded']) this.bytes.inc({ kind }, 0);
    new Gauge({
      name: 'deploysphere_deployments_active',
      help: 'Deployments queued or building right now',
      labelNames: ['status'],
      registers: [registry],
      // Read at scrape time, so every control plane reports the same truth from the database.
      async collect() {
        const rows = await db.deployment.groupBy({
          by: ['status'],
          where: { status: { in: ['queued', 'building'] } },
          _count: { _all: true },
        });
        this.reset();
        for (const status of ['queued', 'building'] as const) {
          this.set({ status }, rows.find((r) => r.status === status)?._count._all ?? 0);
        }
      },
    });
  }

  statusChanged(status: DeploymentStatus): void {
    if (TERMINAL_STATUSES.has(status)) this.finished.inc({ status });
  }

  succeeded(stats: BuildStats): void {
    for (const [phase, ms] of Object.entries(stats.phaseDurationsMs))
      this.phaseSeconds.observe({ phase }, ms / 1000);
    this.bytes.inc({ kind: 'output' }, stats.bytes);
    this.bytes.inc({ kind: 'uploaded' }, stats.uploadedBytes);
    if (stats.cache) this.cacheRestores.inc({ restored: stats.cache.restored });
  }

  watchdogIntervened(action: 'failed_silent' | 'requeued'): void {
    this.watchdog.inc({ action });
  }

  /**
   * What a build used: measured by its runner for a local build (process accounting), reported
   * by the worker from its task's metadata endpoint on ECS.
   */
  buildResources(usage: Omit<BuildResources, 'source'>, source: BuildResources['source']): void {
    this.cpuSeconds.observe({ source }, usage.cpuSeconds);
    this.peakMemory.observe({ source }, usage.peakMemoryBytes);
  }
}

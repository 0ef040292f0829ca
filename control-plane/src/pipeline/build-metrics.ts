import { TERMINAL_STATUSES, type BuildStats, type DeploymentStatus } from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Build KPIs for Prometheus; the Grafana dashboard in observability/ reads these names. */
export class BuildMetrics {
  private readonly finished: Counter<'status'>;
  private readonly phaseSeconds: Histogram<'phase'>;
  private readonly bytes: Counter<'kind'>;

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
  }
}

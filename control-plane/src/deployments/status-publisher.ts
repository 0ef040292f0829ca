import { deploymentStatusSubject, DeploymentStatusEventSchema } from '@deploysphere/contracts';
import type { Deployment } from '@deploysphere/db';
import type { NatsConnection } from '@nats-io/transport-node';
import type { BuildMetrics } from '../pipeline/build-metrics.js';

/** Announces status and phase changes on core NATS, for live views (log streams, dashboard). */
export class StatusPublisher {
  constructor(
    private readonly nats: NatsConnection,
    private readonly metrics?: BuildMetrics,
  ) {}

  /** Every status change goes through here, so it is also where finished builds are counted. */
  publish(d: Pick<Deployment, 'id' | 'status' | 'phase' | 'error'>): void {
    this.metrics?.statusChanged(d.status);
    const event = DeploymentStatusEventSchema.parse({
      deploymentId: d.id,
      status: d.status,
      phase: d.status === 'building' ? d.phase : null,
      error: d.error,
      at: new Date().toISOString(),
    });
    // Best effort by design: a live view that misses one re-reads the status from the API.
    if (!this.nats.isClosed()) this.nats.publish(deploymentStatusSubject(d.id), JSON.stringify(event));
  }
}

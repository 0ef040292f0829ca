import { BuildJobSchema, STREAMS, subjects, type BuildJob } from '@deploysphere/contracts';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** Puts build jobs on the primary region's work-queue subject. */
export class BuildQueue {
  private readonly js: JetStreamClient;
  private jsm: JetStreamManager | undefined;

  constructor(private readonly nats: NatsConnection) {
    this.js = jetstream(nats);
  }

  /** Whether the job of a deployment is still in the queue (waiting, or taken but not yet acked). */
  async has(region: string, deploymentId: string): Promise<boolean> {
    this.jsm ??= await jetstreamManager(this.nats);
    const msg = await this.jsm.streams.getMessage(STREAMS.builds, {
      last_by_subj: subjects.buildJob(region, deploymentId),
    });
    return msg !== null;
  }

  async enqueue(job: BuildJob): Promise<void> {
    const payload = BuildJobSchema.parse(job);
    // The deployment id as message id: publishing the same job twice (the reconciler does) is a no-op.
    await this.js.publish(subjects.buildJob(job.region, job.deploymentId), JSON.stringify(payload), {
      msgID: job.deploymentId,
    });
  }
}

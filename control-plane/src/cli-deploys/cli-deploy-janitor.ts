import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { retryWithBackoff, sourceArchiveKey, TERMINAL_STATUSES } from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { FastifyBaseLogger } from 'fastify';
import type { GrantBucket } from '../build-sessions/storage-grants.js';
import { followStatusChanges } from '../deployments/status-subscription.js';

export interface CliDeployJanitorDeps {
  db: Db;
  nats: NatsConnection;
  bucketFor(region: string): GrantBucket | undefined;
  log: FastifyBaseLogger;
}

/** Every control plane subscribes in this queue group, so each announcement is handled once. */
const QUEUE_GROUP = 'cli-deploy-janitor';

/**
 * Clears what a CLI deploy keeps only while it uploads, once its deployment is final:
 *
 * - a source deploy's archive (`sources/<id>.tar.gz`): the build has extracted it by then, and a
 *   restarted attempt of a build still building needs it;
 * - a prebuilt deploy's pending manifest and the blobs its finalize would check
 *   (CliDeployManifest, CliPendingBlob): a ready one drops its own at finalize; a failed or
 *   cancelled one can never be finalized, and would keep a row per granted blob.
 *
 * It follows the state machine's status announcements; each final one sweeps every finished
 * deployment's archive still stored, so an announcement missed (a control plane down) is caught
 * by the next one, and by the sweep at start. The buckets' lifecycle rule on `sources/` is the
 * last backstop (infra/aws, docs/cli.md).
 */
export class CliDeployJanitor {
  private sub: Subscription | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly deps: CliDeployJanitorDeps) {}

  start(): void {
    if (this.sub) return;
    this.sub = followStatusChanges(this.deps.nats, QUEUE_GROUP, ({ status }) => {
      if (TERMINAL_STATUSES.has(status)) void this.trigger();
    });
    this.trigger();
  }

  async stop(): Promise<void> {
    this.sub?.unsubscribe();
    this.sub = undefined;
    await this.running;
  }

  /** One sweep at a time; a trigger during one runs another right after. */
  trigger(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.sweep().catch((err: unknown) =>
          this.deps.log.warn(
            { err },
            "clearing finished CLI deploys' uploads failed; the next sweep retries",
          ),
        );
      } while (this.again && this.sub);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Clears finished deployments' upload records and archives; returns how many archives it deleted. */
  async sweep(): Promise<number> {
    const finished = { status: { in: [...TERMINAL_STATUSES] } };
    await this.deps.db.$transaction([
      this.deps.db.cliPendingBlob.deleteMany({ where: { deployment: finished } }),
      this.deps.db.cliDeployManifest.deleteMany({ where: { deployment: finished } }),
    ]);
    const rows = await this.deps.db.cliSourceArchive.findMany({
      where: { deletedAt: null, deployment: finished },
      select: { deploymentId: true, region: true },
      take: 500,
    });
    let deleted = 0;
    for (const r of rows) {
      const b = this.deps.bucketFor(r.region);
      if (b) {
        await retryWithBackoff(
          () =>
            b.client.send(
              new DeleteObjectCommand({ Bucket: b.bucket, Key: sourceArchiveKey(r.deploymentId) }),
            ),
          { attempts: 3, baseDelayMs: 200 },
        );
      }
      await this.deps.db.cliSourceArchive.update({
        where: { deploymentId: r.deploymentId },
        data: { deletedAt: new Date() },
      });
      deleted += 1;
    }
    return deleted;
  }
}

import type { GcReport, GcRunView } from '@deploysphere/contracts';
import type { Db, Prisma } from '@deploysphere/db';
import { newId } from '../ids.js';
import type { Expiry, RetentionCandidate } from './retention-policy.js';

/**
 * Advisory lock keys (arbitrary constants, ASCII "DSGL" and "DSGS"). The lease key serialises
 * taking a run; the sweep key is held shared by a build writing its upload claim, and exclusive
 * by the sweep while it checks claims and deletes one batch, so the two never interleave.
 */
const LEASE_LOCK = 0x4453474c;
const SWEEP_LOCK = 0x44534753;

/** A planned expiry, with what its cleanup needs. */
export interface PlannedExpiry extends Expiry {
  projectSlug: string;
}

/** Where a run is; saved after each step, so a run taken over continues from here. */
export interface GcProgress {
  /** The expiries this run applies; set once planned (and, unless a dry run, marked). */
  plan?: PlannedExpiry[];
  routesDone?: boolean;
  /** Per region: the step reached and, in the blob sweep, the last key handled. */
  regions: Record<string, { step: 'manifests' | 'blobs' | 'cache' | 'done'; after?: string }>;
  claimsPruned?: boolean;
}

export type GcTrigger = 'schedule' | 'api';

export interface GcRunRow {
  id: string;
  status: string;
  dryRun: boolean;
  trigger: string;
  holder: string;
  resumes: number;
  progress: GcProgress;
  report: GcReport;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export type Acquired =
  { kind: 'started' | 'resumed'; run: GcRunRow } | { kind: 'busy'; runId: string } | { kind: 'not-due' };

export const emptyReport = (): GcReport => ({ expiredDeployments: [], routeRecordsDeleted: 0, regions: [] });

function toRow(r: {
  id: string;
  status: string;
  dryRun: boolean;
  trigger: string;
  holder: string;
  resumes: number;
  progress: Prisma.JsonValue;
  report: Prisma.JsonValue;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}): GcRunRow {
  return { ...r, progress: r.progress as unknown as GcProgress, report: r.report as unknown as GcReport };
}

export function toRunView(r: GcRunRow): GcRunView {
  return {
    id: r.id,
    status: r.status as GcRunView['status'],
    dryRun: r.dryRun,
    trigger: r.trigger as GcRunView['trigger'],
    resumes: r.resumes,
    report: r.report,
    error: r.error,
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

const json = (v: unknown) => v as Prisma.InputJsonValue;

/** The database side of garbage collection: runs and their lease, claims, expiry marks. */
export class GcStore {
  constructor(private readonly db: Db) {}

  /**
   * Takes the one running run: a new one, or one whose holder stopped renewing its lease (it
   * died), which is then resumed. A scheduled attempt starts nothing while the last completed
   * run is younger than `intervalMs`, so N replicas ticking on the same schedule collect once.
   */
  async acquire(opts: {
    holder: string;
    trigger: GcTrigger;
    dryRun: boolean;
    leaseMs: number;
    intervalMs: number;
  }): Promise<Acquired> {
    return this.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LEASE_LOCK}::bigint)`;
      const now = new Date();
      const leaseExpiresAt = new Date(now.getTime() + opts.leaseMs);
      const running = await tx.gcRun.findFirst({ where: { status: 'running' } });
      if (running) {
        if (running.leaseExpiresAt > now) return { kind: 'busy', runId: running.id };
        if (!running.dryRun) {
          const taken = await tx.gcRun.update({
            where: { id: running.id },
            data: { holder: opts.holder, leaseExpiresAt, resumes: { increment: 1 } },
          });
          return { kind: 'resumed', run: toRow(taken) };
        }
        // A dry run changed nothing: one that lost its holder is simply over.
        await tx.gcRun.update({
          where: { id: running.id },
          data: { status: 'failed', error: 'its control plane stopped', finishedAt: now },
        });
      }
      if (opts.trigger === 'schedule') {
        const last = await tx.gcRun.findFirst({
          where: { status: 'completed', dryRun: false },
          orderBy: { startedAt: 'desc' },
          select: { startedAt: true },
        });
        if (last && now.getTime() - last.startedAt.getTime() < opts.intervalMs) return { kind: 'not-due' };
      }
      const created = await tx.gcRun.create({
        data: {
          id: `gc_${newId()}`,
          status: 'running',
          dryRun: opts.dryRun,
          trigger: opts.trigger,
          holder: opts.holder,
          leaseExpiresAt,
          progress: json({ regions: {} }),
          report: json(emptyReport()),
        },
      });
      return { kind: 'started', run: toRow(created) };
    });
  }

  /** Extends the lease; false when another holder has taken the run (this one must stop). */
  async renew(runId: string, holder: string, leaseMs: number): Promise<boolean> {
    const { count } = await this.db.gcRun.updateMany({
      where: { id: runId, holder, status: 'running' },
      data: { leaseExpiresAt: new Date(Date.now() + leaseMs) },
    });
    return count === 1;
  }

  /** Saves where the run is and what it removed, only while this holder still has it. */
  async save(run: GcRunRow, holder: string): Promise<boolean> {
    const { count } = await this.db.gcRun.updateMany({
      where: { id: run.id, holder, status: 'running' },
      data: { progress: json(run.progress), report: json(run.report) },
    });
    return count === 1;
  }

  async finish(run: GcRunRow, holder: string, error?: string): Promise<void> {
    await this.db.gcRun.updateMany({
      where: { id: run.id, holder, status: 'running' },
      data: {
        status: error ? 'failed' : 'completed',
        error: error ?? null,
        progress: json(run.progress),
        report: json(run.report),
        finishedAt: new Date(),
      },
    });
  }

  async run(id: string): Promise<GcRunRow | null> {
    const r = await this.db.gcRun.findUnique({ where: { id } });
    return r ? toRow(r) : null;
  }

  async latest(): Promise<GcRunRow | null> {
    const r = await this.db.gcRun.findFirst({ orderBy: { startedAt: 'desc' } });
    return r ? toRow(r) : null;
  }

  /** Every project with what the retention policy needs. */
  async projects() {
    return this.db.project.findMany({
      select: {
        id: true,
        slug: true,
        productionDeploymentId: true,
        retainReadyPerBranch: true,
        previewMaxAgeDays: true,
        buildCacheExpiryDays: true,
      },
      orderBy: { createdAt: 'asc' },
    });
  }

  async candidates(projectId: string): Promise<RetentionCandidate[]> {
    return this.db.deployment.findMany({
      where: { projectId },
      select: {
        id: true,
        status: true,
        target: true,
        branch: true,
        createdAt: true,
        finishedAt: true,
        expiredAt: true,
      },
    });
  }

  async aliasTargets(projectId: string): Promise<Set<string>> {
    const rows = await this.db.branchAlias.findMany({ where: { projectId }, select: { deploymentId: true } });
    return new Set(rows.flatMap((r) => (r.deploymentId ? [r.deploymentId] : [])));
  }

  /**
   * Marks `expiries` expired, holding the project's row lock and checking again, under it, that
   * none became production or an alias target meanwhile. A promote takes the same lock and
   * refuses an expired deployment, so a deployment is either promoted or expired, never both.
   * Returns the ones marked.
   */
  async markExpired(projectId: string, expiries: readonly Expiry[]): Promise<Expiry[]> {
    if (expiries.length === 0) return [];
    return this.db.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ productionDeploymentId: string | null }[]>`
        SELECT "productionDeploymentId" FROM "Project" WHERE id = ${projectId} FOR UPDATE`;
      if (rows.length === 0) return [];
      const aliases = await tx.branchAlias.findMany({ where: { projectId }, select: { deploymentId: true } });
      const keep = new Set([rows[0]!.productionDeploymentId, ...aliases.map((a) => a.deploymentId)]);
      const marked: Expiry[] = [];
      const now = new Date();
      for (const e of expiries) {
        if (keep.has(e.id)) continue;
        const { count } = await tx.deployment.updateMany({
          where: { id: e.id, projectId, expiredAt: null, status: { in: ['ready', 'error', 'cancelled'] } },
          data: { expiredAt: now, expiredReason: e.reason },
        });
        if (count === 1) marked.push(e);
      }
      return marked;
    });
  }

  /**
   * What each deployment id means for a manifest: kept (unfinished, or ready and not expired),
   * expired, or failed (error or cancelled, not expired yet). Ids absent from the map have no row.
   */
  async manifestStates(): Promise<Map<string, 'kept' | 'expired' | 'failed'>> {
    const rows = await this.db.deployment.findMany({ select: { id: true, status: true, expiredAt: true } });
    const out = new Map<string, 'kept' | 'expired' | 'failed'>();
    for (const r of rows) {
      // A skipped deployment never uploads a manifest: one under its id is never kept.
      if (r.expiredAt || r.status === 'skipped') out.set(r.id, 'expired');
      else if (r.status === 'error' || r.status === 'cancelled') out.set(r.id, 'failed');
      else out.set(r.id, 'kept');
    }
    return out;
  }

  /**
   * A build's claim on blobs it was told are stored (or is about to upload): written before its
   * grants are computed, under the sweep lock held shared, so the sweep either sees the claim or
   * finished its batch before the grants looked at the bucket.
   */
  async claim(deploymentId: string, hashes: readonly string[]): Promise<void> {
    if (hashes.length === 0) return;
    await this.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(${SWEEP_LOCK}::bigint)`;
      await tx.uploadClaim.create({ data: { deploymentId, hashes: [...new Set(hashes)] } });
    });
  }

  /**
   * Runs `remove` with the claimed hashes among `candidates` excluded, holding the sweep lock
   * exclusively, so no claim can be written between the check and the delete.
   */
  async withoutClaims<T>(
    candidates: readonly string[],
    remove: (unclaimed: string[]) => Promise<T>,
  ): Promise<T> {
    return this.db.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SWEEP_LOCK}::bigint)`;
        const claimed = await tx.$queryRaw<{ h: string }[]>`
          SELECT DISTINCT h FROM "UploadClaim" c, unnest(c.hashes) AS h
           WHERE c.hashes && ${[...candidates]}::text[] AND h = ANY(${[...candidates]}::text[])`;
        const skip = new Set(claimed.map((r) => r.h));
        return remove(candidates.filter((c) => !skip.has(c)));
      },
      { timeout: 120_000, maxWait: 30_000 },
    );
  }

  /**
   * Claims of builds that had finished before `before` (their manifest, if kept, now covers
   * their blobs) and of deployments that no longer exist.
   */
  async pruneClaims(before: Date): Promise<number> {
    return this.db.$executeRaw`
      DELETE FROM "UploadClaim" c WHERE NOT EXISTS (
        SELECT 1 FROM "Deployment" d WHERE d.id = c."deploymentId"
          AND (d.status IN ('queued', 'building') OR d."finishedAt" IS NULL OR d."finishedAt" >= ${before}))`;
  }
}

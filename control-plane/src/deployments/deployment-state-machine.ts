import type { DeploymentPhase, DeploymentStatus } from '@deploysphere/contracts';
import type { Db, Prisma } from '@deploysphere/db';
import { Counter, type Registry } from 'prom-client';
import type { BranchAliases } from '../hosts/branch-aliases.js';
import type { StatusPublisher } from './status-publisher.js';
import { TRANSITIONS, type Transition } from './deployment-transitions.js';

/** An event's place in its build's stream: applied once, in order (`lastEventSeq`). */
export interface EventCursor {
  seq: number;
}

/** Fields a transition may set besides `status`; never `status` itself. */
type Fields = Omit<Prisma.DeploymentUpdateManyMutationInput, 'status' | 'lastEventSeq'>;

/** Longest a ready switch may hold its deployment's row: the KV write happens under the lock. */
const READY_TRANSACTION_TIMEOUT_MS = 60_000;

/**
 * The one owner of deployment status. Every change is a transition from TRANSITIONS, applied as
 * an update guarded by the statuses it may leave, so two writers that race (a cancel and a
 * finishing build, the watchdog and a late event) can never both win. A refused transition
 * changes nothing, is counted, and tells the caller with `false`. Each applied change is
 * announced on NATS after it is committed.
 */
export class DeploymentStateMachine {
  private readonly refused: Counter<'transition'>;

  constructor(
    private readonly deps: {
      db: Db;
      status: StatusPublisher;
      registry: Registry;
      /** Where a ready preview's branch alias is written; without it a preview gets its own host only. */
      aliases?: BranchAliases;
    },
  ) {
    this.refused =
      (deps.registry.getSingleMetric('deploysphere_deployment_transitions_refused_total') as
        Counter<'transition'> | undefined) ??
      new Counter({
        name: 'deploysphere_deployment_transitions_refused_total',
        help: 'Deployment status transitions refused because the deployment was no longer in a status they may leave',
        labelNames: ['transition'],
        registers: [deps.registry],
      });
  }

  /**
   * Creates a queued deployment and supersedes the older queued ones of its lane, in one
   * transaction, so a lane never has two queued deployments. A lane is the project's production
   * deployments, or the previews of one branch: a push to a feature branch never cancels a
   * queued production deploy, nor a push to another branch. Returns the superseded ids.
   */
  async create(data: Prisma.DeploymentUncheckedCreateInput & { status?: never }): Promise<string[]> {
    const id = data.id!;
    const error = `superseded by ${id}`;
    const lane: Prisma.DeploymentWhereInput =
      data.target === 'preview'
        ? { target: 'preview', branch: data.branch ?? null }
        : { target: 'production' };
    const superseded = await this.deps.db.$transaction(async (tx) => {
      const older = await tx.deployment.findMany({
        where: { projectId: data.projectId, status: { in: [...TRANSITIONS.supersede.from] }, ...lane },
        select: { id: true },
      });
      const { count } = await tx.deployment.updateMany({
        where: { id: { in: older.map((d) => d.id) }, status: { in: [...TRANSITIONS.supersede.from] } },
        data: { status: TRANSITIONS.supersede.to, error, finishedAt: new Date() },
      });
      if (count < older.length) this.refused.inc({ transition: 'supersede' }, older.length - count);
      await tx.deployment.create({ data: { ...data, status: 'queued' } });
      return older.map((d) => d.id);
    });
    for (const olderId of superseded) this.announce(olderId, 'cancelled', null, error);
    return superseded;
  }

  /**
   * A prebuilt (CLI) deployment: written queued and moved to building in phase `upload` by the
   * `prebuilt` transition, in one transaction, so no dispatcher or watchdog ever sees it queued
   * (there is no build job to run). It supersedes nothing: it never waits in a lane. Its
   * `lastHeartbeatAt` is the uploader's: the watchdog fails an upload that goes silent.
   */
  async createPrebuilt(
    data: Prisma.DeploymentUncheckedCreateInput & { status?: never; source: 'cli' },
    within?: (tx: Prisma.TransactionClient) => Promise<void>,
  ): Promise<boolean> {
    const id = data.id!;
    const applied = await this.deps.db.$transaction(async (tx) => {
      await tx.deployment.create({ data: { ...data, status: 'queued' } });
      const now = new Date();
      const ok = await this.update(tx, id, 'prebuilt', {
        phase: 'upload',
        startedAt: now,
        lastHeartbeatAt: now,
      });
      if (ok) await within?.(tx);
      return ok;
    });
    if (applied) this.announce(id, 'building', 'upload', null);
    return applied;
  }

  /**
   * A deployment that builds nothing (a push outside the watch paths, a skip marker): written
   * queued and moved to `skipped` with its reason by the `skip` transition, in one transaction,
   * so no dispatcher or watchdog ever sees it queued. It supersedes nothing, never touches
   * production or an alias, and no build job is ever published for it.
   */
  async createSkipped(
    data: Prisma.DeploymentUncheckedCreateInput & { status?: never },
    reason: string,
  ): Promise<boolean> {
    const id = data.id!;
    const applied = await this.deps.db.$transaction(async (tx) => {
      await tx.deployment.create({ data: { ...data, status: 'queued' } });
      return this.update(tx, id, 'skip', { skipReason: reason, phase: null, finishedAt: new Date() });
    });
    if (applied) this.announce(id, 'skipped', null, null);
    return applied;
  }

  /**
   * building → skipped: the ignored build step said so. Only what the worker reported (preset,
   * cache, clone size) is recorded besides the reason; no host, no production switch, no alias.
   */
  async ignoreBuild(
    id: string,
    reason: string,
    opts: { cursor?: EventCursor; at?: Date; fields?: Fields } = {},
  ): Promise<boolean> {
    const applied = await this.update(
      this.deps.db,
      id,
      'ignoreBuild',
      { ...opts.fields, skipReason: reason, phase: null, finishedAt: opts.at ?? new Date() },
      opts.cursor,
    );
    if (applied) this.announce(id, 'skipped', null, null);
    return applied;
  }

  /**
   * queued → building, holding the project's advisory lock, so two dispatcher slots (or two
   * control planes) never build two deployments of one project at once.
   */
  async claim(id: string): Promise<'claimed' | 'busy' | 'gone'> {
    const outcome = await this.deps.db.$transaction(async (tx) => {
      const d = await tx.deployment.findUnique({ where: { id }, select: { projectId: true, status: true } });
      if (!d || d.status !== 'queued') return 'gone';
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${d.projectId}))`;
      const busy = await tx.deployment.count({ where: { projectId: d.projectId, status: 'building' } });
      if (busy > 0) return 'busy';
      const now = new Date();
      const applied = await this.update(tx, id, 'claim', {
        phase: 'clone',
        startedAt: now,
        lastHeartbeatAt: now,
      });
      return applied ? 'claimed' : 'gone';
    });
    if (outcome === 'claimed') this.announce(id, 'building', 'clone', null);
    return outcome;
  }

  /**
   * A CLI source deploy's archive is stored: building (phase upload) → queued, where it waits for
   * a build slot like a Git deployment (the caller publishes its job next). The claim then starts
   * it in phase clone, with its own startedAt and heartbeats.
   */
  async sourceUploaded(id: string): Promise<boolean> {
    const applied = await this.update(
      this.deps.db,
      id,
      'sourceUploaded',
      { phase: null, startedAt: null, lastHeartbeatAt: null },
      undefined,
      { phase: 'upload', source: 'cli' },
    );
    if (applied) this.announce(id, 'queued', null, null);
    return applied;
  }

  /** building → building in a new phase. */
  async phase(
    id: string,
    phase: DeploymentPhase,
    fields: Fields = {},
    cursor?: EventCursor,
  ): Promise<boolean> {
    const applied = await this.update(this.deps.db, id, 'phase', { ...fields, phase }, cursor);
    if (applied) this.announce(id, 'building', phase, null);
    return applied;
  }

  /**
   * → error with the reason. `where` narrows the guard further (the watchdog's heartbeat check);
   * `fields` records what the build reported with its failure (preset, cache, clone size).
   */
  async fail(
    id: string,
    error: string,
    opts: { cursor?: EventCursor; at?: Date; where?: Prisma.DeploymentWhereInput; fields?: Fields } = {},
  ): Promise<boolean> {
    const applied = await this.update(
      this.deps.db,
      id,
      'fail',
      { ...opts.fields, error, phase: null, finishedAt: opts.at ?? new Date() },
      opts.cursor,
      opts.where,
    );
    if (applied) this.announce(id, 'error', null, error);
    return applied;
  }

  /** → cancelled, by the user or a project delete. */
  async cancel(
    id: string,
    reason: string,
    opts: { cursor?: EventCursor; at?: Date; fields?: Fields } = {},
  ): Promise<boolean> {
    const applied = await this.update(
      this.deps.db,
      id,
      'cancel',
      { ...opts.fields, error: reason, phase: null, finishedAt: opts.at ?? new Date() },
      opts.cursor,
    );
    if (applied) this.announce(id, 'cancelled', null, reason);
    return applied;
  }

  /**
   * building → ready. The row is locked first and its status checked; `switchTraffic` (the KV
   * write that moves production) runs only while the deployment is still building and nobody
   * can change that, and `ready` is written in the same transaction. A cancel or a watchdog
   * failure that lands meanwhile waits for the lock and is then refused: traffic never moves
   * to a deployment that is not ready, and a finished cancel is never overwritten.
   *
   * A preview never switches production: instead of `switchTraffic` its branch alias is written
   * (the deployment's own host was written before), and the project's production stays as it is.
   * The target is read from the locked row, so no caller can get this wrong.
   */
  async ready(
    id: string,
    fields: Fields,
    switchTraffic: () => Promise<void>,
    cursor?: EventCursor,
  ): Promise<boolean> {
    const applied = await this.deps.db.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<{ status: DeploymentStatus }[]>`
          SELECT status FROM "Deployment" WHERE id = ${id} FOR UPDATE`;
        const status = rows[0]?.status;
        if (!status || !(TRANSITIONS.ready.from as readonly string[]).includes(status)) {
          this.refused.inc({ transition: 'ready' });
          return false;
        }
        const d = await tx.deployment.findUniqueOrThrow({
          where: { id },
          select: {
            id: true,
            projectId: true,
            regions: true,
            target: true,
            branch: true,
            createdAt: true,
            project: { select: { slug: true } },
          },
        });
        const preview = d.target === 'preview';
        if (!preview) await switchTraffic();
        else if (d.branch !== null) await this.deps.aliases?.point(tx, { ...d, branch: d.branch });
        const ok = await this.update(
          tx,
          id,
          'ready',
          { ...fields, phase: null, finishedAt: new Date() },
          cursor,
        );
        if (ok && !preview) {
          await tx.project.update({ where: { id: d.projectId }, data: { productionDeploymentId: id } });
        }
        return ok;
      },
      { timeout: READY_TRANSACTION_TIMEOUT_MS },
    );
    if (applied) this.announce(id, 'ready', null, null);
    return applied;
  }

  /**
   * Records what an event says without changing the status (heartbeats, the commit, progress),
   * only while the deployment builds and only once per event.
   */
  async note(id: string, fields: Fields, cursor: EventCursor): Promise<boolean> {
    const { count } = await this.deps.db.deployment.updateMany({
      where: { id, status: 'building', lastEventSeq: { lt: cursor.seq } },
      data: { ...fields, lastEventSeq: cursor.seq },
    });
    return count === 1;
  }

  private async update(
    db: Prisma.TransactionClient | Db,
    id: string,
    transition: Transition,
    fields: Fields,
    cursor?: EventCursor,
    where: Prisma.DeploymentWhereInput = {},
  ): Promise<boolean> {
    const { from, to } = TRANSITIONS[transition];
    const { count } = await db.deployment.updateMany({
      where: {
        ...where,
        id,
        status: { in: [...from] },
        ...(cursor ? { lastEventSeq: { lt: cursor.seq } } : {}),
      },
      data: { ...fields, status: to, ...(cursor ? { lastEventSeq: cursor.seq } : {}) },
    });
    if (count === 0) this.refused.inc({ transition });
    return count === 1;
  }

  private announce(
    id: string,
    status: DeploymentStatus,
    phase: DeploymentPhase | null,
    error: string | null,
  ) {
    this.deps.status.publish({ id, status, phase, error });
  }
}

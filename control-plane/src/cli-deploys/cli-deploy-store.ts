import { AppError, BRANCH_ALIAS_INFIX, ManifestSchema, type Manifest } from '@deploysphere/contracts';
import { Prisma, type Db } from '@deploysphere/db';
import { z } from 'zod';
import { newId } from '../ids.js';
import { withRoomForProject } from '../projects/team-limits.js';

/**
 * What a CLI deploy keeps between create and finalize: the manifest as validated, and whether
 * the blobs finalize checks are recorded (CliPendingBlob: per region, those granted at create,
 * missing then, and not found stored since). Finalize checks those; the others were present.
 */
const PendingRecordSchema = z.object({
  v: z.literal(1),
  manifest: ManifestSchema,
  pendingBlobs: z.literal(true).optional(),
});
export type PendingRecord = z.infer<typeof PendingRecordSchema>;

/** A CLI deployment as finalize reads it: its project, regions and the manifest it declared. */
export interface PendingCliDeploy {
  id: string;
  projectId: string;
  slug: string;
  regions: string[];
  target: 'production' | 'preview';
  status: string;
  phase: string | null;
  source: 'git' | 'cli';
  totalBytes: bigint | null;
  startedAt: Date | null;
  manifest: Manifest | undefined;
  /**
   * Per region, the blobs granted at create and not found stored since; undefined: not recorded
   * (check them all).
   */
  granted: Record<string, string[]> | undefined;
  domains: { hostname: string }[];
}

/** The database side of CLI deploys: projects made by name, pending manifests, heartbeats. */
export class CliDeployStore {
  constructor(private readonly db: Db) {}

  project(slug: string) {
    return this.db.project.findUnique({ where: { slug }, select: { id: true, slug: true, regions: true } });
  }

  /**
   * A project with no repository (repoUrl ''): it takes only CLI deployments until one is
   * connected (PATCH /projects/:slug with a repoUrl). Two deploys naming the same new project at
   * once both end up using the one that won the insert.
   */
  async createProject(
    slug: string,
    regions: string[],
    teamId: string,
  ): Promise<{ id: string; slug: string; regions: string[]; created: boolean }> {
    // `<slug>-git-<branch>` is another project's branch alias (ProjectService.create's rule).
    if (slug.includes(BRANCH_ALIAS_INFIX)) {
      throw AppError.badRequest(
        `slug: must not contain "${BRANCH_ALIAS_INFIX}" (it names branch preview hosts)`,
        'slug',
      );
    }
    const id = `prj_${newId()}`;
    try {
      await withRoomForProject(this.db, teamId, (tx) =>
        tx.project.create({
          data: { id, teamId, slug, repoUrl: '', regions, installCommand: null, buildCommand: null },
          select: { id: true },
        }),
      );
      return { id, slug, regions, created: true };
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
        // The race's winner is used only if it is in the same team: a slug another team just
        // took is "taken", as it would have been a moment later (docs/accounts.md).
        const existing = await this.db.project.findUnique({ where: { slug }, select: { teamId: true } });
        if (existing?.teamId !== teamId) throw AppError.conflict(`slug: "${slug}" is already taken`, 'slug');
        const winner = await this.project(slug);
        if (winner) return { ...winner, created: false };
      }
      throw err;
    }
  }

  /** The ready deployments whose manifests say which blobs are stored (as a build's grants use). */
  async previousDeployments(projectId: string): Promise<string[]> {
    const rows = await this.db.deployment.findMany({
      where: { projectId, status: 'ready' },
      orderBy: { finishedAt: 'desc' },
      take: 3,
      select: { id: true },
    });
    return rows.map((r) => r.id);
  }

  async pending(id: string): Promise<PendingCliDeploy | undefined> {
    const d = await this.db.deployment.findUnique({
      where: { id },
      include: { project: { include: { domains: true } }, cliManifest: true },
    });
    if (!d) return undefined;
    const parsed = d.cliManifest ? PendingRecordSchema.safeParse(d.cliManifest.manifest) : undefined;
    let granted: Record<string, string[]> | undefined;
    if (parsed?.success && parsed.data.pendingBlobs) {
      granted = Object.fromEntries(d.regions.map((r) => [r, [] as string[]]));
      const rows = await this.db.cliPendingBlob.findMany({
        where: { deploymentId: id },
        select: { region: true, hash: true },
      });
      for (const row of rows) (granted[row.region] ??= []).push(row.hash);
    }
    return {
      id: d.id,
      projectId: d.projectId,
      slug: d.project.slug,
      regions: d.regions,
      target: d.target,
      status: d.status,
      phase: d.phase,
      source: d.source,
      totalBytes: d.totalBytes,
      startedAt: d.startedAt,
      manifest: parsed?.success ? parsed.data.manifest : undefined,
      granted,
      domains: d.project.domains,
    };
  }

  /** The uploader is alive: the watchdog judges an upload by this, as it does a build's beats. */
  async heartbeat(id: string): Promise<boolean> {
    const { count } = await this.db.deployment.updateMany({
      where: { id, status: 'building', phase: 'upload', source: 'cli' },
      data: { lastHeartbeatAt: new Date() },
    });
    return count === 1;
  }

  /**
   * After the grants: the bytes the upload must send (every region's missing blobs, for the
   * deployment's stats), the granted blobs per region (what finalize checks), and a beat
   * (granting may take a while).
   */
  async noteGrants(
    id: string,
    manifest: Manifest,
    granted: { region: string; blobs: { hash: string; size: number }[] }[],
    totalBytes: number,
  ): Promise<void> {
    const record: PendingRecord = { v: 1, manifest, pendingBlobs: true };
    await this.db.$transaction([
      this.db.deployment.updateMany({
        where: { id, status: 'building' },
        data: { totalBytes: BigInt(totalBytes), lastHeartbeatAt: new Date() },
      }),
      this.db.cliPendingBlob.createMany({
        data: granted.flatMap((r) =>
          r.blobs.map((b) => ({ deploymentId: id, region: r.region, hash: b.hash, size: b.size })),
        ),
        skipDuplicates: true,
      }),
      this.db.cliDeployManifest.update({ where: { deploymentId: id }, data: { manifest: record } }),
    ]);
  }

  /** A CLI deployment's state, without its manifest: what a report of landed blobs needs. */
  uploadState(id: string) {
    return this.db.deployment.findUnique({
      where: { id },
      select: { source: true, status: true, phase: true, regions: true },
    });
  }

  /** Of `hashes`, the ones finalize would still check in `region`, with their sizes. */
  async unverified(id: string, region: string, hashes: readonly string[]): Promise<Map<string, number>> {
    const rows = await this.db.cliPendingBlob.findMany({
      where: { deploymentId: id, region, hash: { in: [...hashes] } },
      select: { hash: true, size: true },
    });
    return new Map(rows.map((r) => [r.hash, r.size]));
  }

  /** Blobs of `region` found stored after the uploader reported them: finalize does not check them. */
  async noteVerified(id: string, region: string, hashes: readonly string[]): Promise<void> {
    if (hashes.length === 0) return;
    await this.db.cliPendingBlob.deleteMany({
      where: { deploymentId: id, region, hash: { in: [...hashes] } },
    });
  }

  async dropManifest(id: string): Promise<void> {
    await this.db.$transaction([
      this.db.cliPendingBlob.deleteMany({ where: { deploymentId: id } }),
      this.db.cliDeployManifest.deleteMany({ where: { deploymentId: id } }),
    ]);
  }
}

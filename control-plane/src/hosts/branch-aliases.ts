import { branchAliasHost } from '@deploysphere/contracts';
import type { Prisma } from '@deploysphere/db';
import type { RouteWriter } from './route-writer.js';

/** The ready preview a branch alias should serve, as the state machine's `ready` sees it. */
export interface PreviewRef {
  id: string;
  projectId: string;
  regions: string[];
  branch: string;
  createdAt: Date;
  project: { slug: string };
}

/**
 * A branch's stable preview host, `<slug>-git-<branch-slug>.<root>`. The first branch to claim a
 * label keeps it; a branch whose plain label another branch (or another project's production
 * host) already holds gets the hashed label instead, and keeps that one for good, since the
 * BranchAlias row remembers which host each branch has.
 */
export class BranchAliases {
  constructor(
    private readonly routes: RouteWriter,
    private readonly rootDomain: string,
  ) {}

  /**
   * Points the branch's alias at `d`, unless a newer preview of the branch is ready already (a
   * build that finished late must not take the alias back). Runs inside the state machine's ready
   * transaction, so the row and the KV record change together with `ready`. Returns the host
   * written, or null.
   */
  async point(tx: Prisma.TransactionClient, d: PreviewRef): Promise<string | null> {
    const newer = await tx.deployment.count({
      where: {
        projectId: d.projectId,
        branch: d.branch,
        target: 'preview',
        status: 'ready',
        createdAt: { gt: d.createdAt },
      },
    });
    if (newer > 0) return null;
    const hostname = await this.hostFor(tx, d.projectId, d.project.slug, d.branch);
    await tx.branchAlias.upsert({
      where: { projectId_branch: { projectId: d.projectId, branch: d.branch } },
      create: { hostname, projectId: d.projectId, branch: d.branch, deploymentId: d.id },
      update: { deploymentId: d.id },
    });
    await this.routes.publishBranchAlias(hostname, d.project.slug, d);
    return hostname;
  }

  /** The branch's host: the one it holds, else its plain label if free, else the hashed one. */
  private async hostFor(
    tx: Prisma.TransactionClient,
    projectId: string,
    slug: string,
    branch: string,
  ): Promise<string> {
    const held = await tx.branchAlias.findUnique({
      where: { projectId_branch: { projectId, branch } },
      select: { hostname: true },
    });
    if (held) return held.hostname;
    const plain = branchAliasHost(slug, branch, this.rootDomain);
    const label = plain.slice(0, -(this.rootDomain.length + 1));
    // One after the other: a transaction has one connection, and pg refuses concurrent queries on it.
    const taken = await tx.branchAlias.findUnique({ where: { hostname: plain }, select: { branch: true } });
    // A project created before slugs with "-git-" were refused may own this name as production.
    const project = await tx.project.findUnique({ where: { slug: label }, select: { id: true } });
    return taken || project ? branchAliasHost(slug, branch, this.rootDomain, { hashed: true }) : plain;
  }
}

import {
  AppError,
  CLI_DEPLOY_ERRORS,
  TERMINAL_STATUSES,
  type CreateDeploymentBody,
  type DeploymentTarget,
  type DeploymentView,
  type QuickDeployBody,
} from '@deploysphere/contracts';
import type { Db, Deployment } from '@deploysphere/db';
import type { FastifyBaseLogger } from 'fastify';
import { newId } from '../ids.js';
import type { BuildQueue } from '../pipeline/build-queue.js';
import type { ProjectService } from '../projects/project-service.js';
import type { RouteWriter } from '../hosts/route-writer.js';
import type { SiteUrls } from '../hosts/site-urls.js';
import type { DeploymentStateMachine } from './deployment-state-machine.js';
import { deploymentViewInclude, toDeploymentView } from './deployment-view.js';

export interface DeploymentServiceDeps {
  db: Db;
  queue: BuildQueue;
  projects: ProjectService;
  routes: RouteWriter;
  urls: SiteUrls;
  state: DeploymentStateMachine;
  log: FastifyBaseLogger;
  /** Stops a running build wherever it runs. */
  stopBuild(deploymentId: string): Promise<void>;
}

/** A push a webhook accepted, to deploy exactly as pushed. */
export interface PushDeploy {
  projectId: string;
  slug: string;
  regions: string[];
  target: DeploymentTarget;
  branch: string;
  /** The pushed head: the build checks out this commit, even if the branch has moved since. */
  commitSha: string | null;
  /** What the build checks out when no commit is known (a deploy hook: the branch's head). */
  gitRef?: string;
  commitMessage: string | null;
  commitAuthor: string | null;
  /** The pull request whose head this is, when a pull request event asked for it. */
  pullRequest?: number | null;
}

/** Deployments: queueing, reading, cancelling and promoting them. */
export class DeploymentService {
  constructor(private readonly deps: DeploymentServiceDeps) {}

  /**
   * Writes the deployment as queued and supersedes the project's older queued ones in one
   * transaction, then queues the job. If the publish fails the row stays queued and the
   * reconciler publishes it again; it never disappears.
   */
  async create(slug: string, body: CreateDeploymentBody): Promise<DeploymentView> {
    const project = await this.deps.db.project.findUnique({ where: { slug } });
    if (!project) throw AppError.notFound(`Project ${slug}`, 'slug');
    // A project the CLI created has no repository: nothing to build until one is connected.
    if (project.repoUrl === '') {
      throw new AppError(
        409,
        CLI_DEPLOY_ERRORS.noRepository,
        `slug: project ${slug} has no repository; deploy it with the CLI, or connect one (PATCH repoUrl)`,
        { field: 'slug' },
      );
    }
    const id = newId();
    await this.deps.state.create({
      id,
      projectId: project.id,
      gitRef: body.gitRef ?? project.gitRef,
      regions: project.regions,
      withoutCache: body.withoutCache ?? false,
    });
    await this.enqueue({ id, regions: project.regions }, slug);
    return this.get(id);
  }

  /**
   * A push's deployment. Its gitRef is the pushed commit itself, which the worker fetches and
   * checks out as it does any ref, so a branch that moved on after the push cannot change what
   * is built; commitSha is known from the start. Returns the new deployment's id.
   */
  async createFromPush(push: PushDeploy): Promise<string> {
    const id = newId();
    await this.deps.state.create({
      id,
      projectId: push.projectId,
      gitRef: push.commitSha ?? push.gitRef ?? push.branch,
      commitSha: push.commitSha,
      target: push.target,
      branch: push.branch,
      commitMessage: push.commitMessage,
      commitAuthor: push.commitAuthor,
      pullRequest: push.pullRequest ?? null,
      regions: push.regions,
    });
    await this.enqueue({ id, regions: push.regions }, push.slug);
    return id;
  }

  /**
   * A push that builds nothing (outside the watch paths, a skip marker): recorded as a `skipped`
   * deployment with its reason, for the history. No job is queued, nothing supersedes, and
   * production and the branch's alias stay as they are. A delivery of the same push again (a
   * replay under a new delivery id) finds the skipped row rather than writing another.
   */
  async createSkipped(push: PushDeploy, reason: string): Promise<string> {
    const same = push.commitSha
      ? await this.deps.db.deployment.findFirst({
          where: {
            projectId: push.projectId,
            status: 'skipped',
            target: push.target,
            branch: push.branch,
            commitSha: push.commitSha,
            skipReason: reason,
          },
          select: { id: true },
        })
      : null;
    if (same) return same.id;
    const id = newId();
    await this.deps.state.createSkipped(
      {
        id,
        projectId: push.projectId,
        gitRef: push.commitSha ?? push.gitRef ?? push.branch,
        commitSha: push.commitSha,
        target: push.target,
        branch: push.branch,
        commitMessage: push.commitMessage,
        commitAuthor: push.commitAuthor,
        pullRequest: push.pullRequest ?? null,
        regions: push.regions,
      },
      reason,
    );
    return id;
  }

  /** Re-sends the job of a queued deployment; safe to repeat (see BuildQueue.enqueue). */
  async enqueue(d: Pick<Deployment, 'id' | 'regions'>, slug: string): Promise<void> {
    try {
      await this.deps.queue.enqueue({
        v: 1,
        deploymentId: d.id,
        projectSlug: slug,
        region: d.regions[0]!,
        queuedAt: new Date().toISOString(),
      });
    } catch (err) {
      // The row is queued already; the watchdog republishes a queued deployment whose job is
      // missing, so this is a delay, not a loss. Say so, since it shows a NATS problem.
      this.deps.log.warn(
        { err, deploymentId: d.id },
        'queueing the build job failed; the watchdog will queue it again',
      );
    }
  }

  /** `teamId`: where a new project goes (authorize() decided it); an existing one stays where it is. */
  async quickDeploy(body: QuickDeployBody, teamId?: string): Promise<DeploymentView> {
    const single = typeof body.region === 'string';
    const regions = typeof body.region === 'string' ? [body.region] : body.region;
    if (regions) this.deps.projects.assertRegions(regions, 'region', single);
    const existing = await this.deps.db.project.findUnique({ where: { slug: body.slug } });
    if (existing && existing.repoUrl !== body.repoUrl) {
      throw AppError.conflict(`slug: "${body.slug}" belongs to another repository`, 'slug');
    }
    // An absent command leaves an existing project's as it is; a new project gets the preset's.
    const commands = {
      ...(body.installCommand !== undefined ? { installCommand: body.installCommand } : {}),
      ...(body.buildCommand !== undefined ? { buildCommand: body.buildCommand } : {}),
    };
    if (existing) {
      await this.deps.projects.update(body.slug, {
        ...commands,
        ...(regions ? { regions } : {}),
        ...(body.outputDir ? { outputDir: body.outputDir } : {}),
      });
    } else {
      await this.deps.projects.create(
        {
          slug: body.slug,
          repoUrl: body.repoUrl,
          ...commands,
          regions: regions ?? this.deps.projects.defaultRegions(),
          ...(body.outputDir ? { outputDir: body.outputDir } : {}),
          ...(body.gitRef ? { gitRef: body.gitRef } : {}),
        },
        teamId,
      );
    }
    return this.create(body.slug, body.gitRef ? { gitRef: body.gitRef } : {});
  }

  async get(id: string): Promise<DeploymentView> {
    const d = await this.deps.db.deployment.findUnique({ where: { id }, include: deploymentViewInclude });
    if (!d) throw AppError.notFound(`Deployment ${id}`, 'id');
    return toDeploymentView(d, this.deps.urls);
  }

  async listForProject(
    slug: string,
    opts: { limit: number; before?: string; target?: DeploymentTarget; branch?: string },
  ): Promise<DeploymentView[]> {
    const project = await this.deps.db.project.findUnique({ where: { slug }, select: { id: true } });
    if (!project) throw AppError.notFound(`Project ${slug}`, 'slug');
    const rows = await this.deps.db.deployment.findMany({
      where: {
        projectId: project.id,
        ...(opts.target ? { target: opts.target } : {}),
        ...(opts.branch ? { branch: opts.branch } : {}),
      },
      include: deploymentViewInclude,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: opts.limit,
      ...(opts.before ? { cursor: { id: opts.before }, skip: 1 } : {}),
    });
    return rows.map((d) => toDeploymentView(d, this.deps.urls));
  }

  /** A queued or building deployment becomes cancelled at once; its build is told to stop. */
  async cancel(id: string, reason = 'cancelled by user'): Promise<DeploymentView> {
    const d = await this.deps.db.deployment.findUnique({ where: { id } });
    if (!d) throw AppError.notFound(`Deployment ${id}`, 'id');
    if (TERMINAL_STATUSES.has(d.status)) {
      throw AppError.conflict(`Deployment ${id} is already ${d.status}`, 'id');
    }
    if (!(await this.deps.state.cancel(id, reason))) return this.cancel(id, reason); // it finished meanwhile: report that
    if (d.status === 'building') await this.deps.stopBuild(id);
    return this.get(id);
  }

  /**
   * Cancels every unfinished deployment of a project (it is being deleted). One that finishes
   * meanwhile is fine; any other failure stops the delete, so no build outlives its project
   * unnoticed.
   */
  async cancelActive(projectId: string, reason: string): Promise<void> {
    const active = await this.deps.db.deployment.findMany({
      where: { projectId, status: { in: ['queued', 'building'] } },
      select: { id: true },
    });
    for (const d of active) {
      try {
        await this.cancel(d.id, reason);
      } catch (err) {
        if (err instanceof AppError && err.code === 'conflict') continue;
        throw err;
      }
    }
  }

  /** Instant rollback (or roll forward): points production at any ready deployment, no rebuild. */
  async promote(slug: string, deploymentId: string): Promise<DeploymentView> {
    const project = await this.deps.db.project.findUnique({ where: { slug }, include: { domains: true } });
    if (!project) throw AppError.notFound(`Project ${slug}`, 'slug');
    const d = await this.deps.db.deployment.findUnique({ where: { id: deploymentId } });
    if (!d || d.projectId !== project.id) {
      throw AppError.notFound(`Deployment ${deploymentId} of project ${slug}`, 'deploymentId');
    }
    if (d.status !== 'ready') {
      throw AppError.conflict(
        `deploymentId: only a ready deployment can be promoted (this one is ${d.status})`,
        'deploymentId',
      );
    }
    // Under the project's row lock, which garbage collection takes to expire deployments: the
    // deployment is either still live (and, once production, never expired) or refused here.
    await this.deps.db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM "Project" WHERE id = ${project.id} FOR UPDATE`;
        const live = await tx.deployment.findUnique({ where: { id: d.id }, select: { expiredAt: true } });
        if (live?.expiredAt) {
          throw AppError.conflict(
            `deploymentId: ${d.id} has expired (retention removed its files); deploy it again instead`,
            'deploymentId',
          );
        }
        await this.deps.routes.publishProduction(project, d);
        await tx.project.update({ where: { id: project.id }, data: { productionDeploymentId: d.id } });
      },
      { timeout: 60_000 },
    );
    return this.get(d.id);
  }
}

import {
  AppError,
  BRANCH_ALIAS_INFIX,
  type CreateProjectBody,
  type ProjectView,
  type RetentionSettingsInput,
  type UpdateProjectBody,
} from '@deploysphere/contracts';
import { Prisma, type Db } from '@deploysphere/db';
import type { ControlPlaneConfig } from '../config.js';
import { newId } from '../ids.js';
import type { EnvCipher } from './env-cipher.js';
import { DEFAULT_TEAM_ID, visibleProjectsWhere, type ProjectVisibility } from '../authz/principal.js';
import { assertRepoUrlAllowed } from './repo-policy.js';
import { withRoomForProject } from './team-limits.js';
import type { RouteWriter } from '../hosts/route-writer.js';
import type { SiteUrls } from '../hosts/site-urls.js';
import { projectViewInclude, toProjectView } from './project-view.js';
import { protectionData } from '../protection/project-protection.js';
import type { ProtectionService } from '../protection/protection-service.js';

export interface ProjectServiceDeps {
  db: Db;
  config: Pick<ControlPlaneConfig, 'regions' | 'allowLocalRepos'>;
  cipher: EnvCipher;
  urls: SiteUrls;
  routes: RouteWriter;
  /** Protected previews; without it, protection settings are refused (no signing key). */
  protection?: Pick<ProtectionService, 'enabled' | 'restamp'>;
  /** Stops a project's unfinished deployments before it is deleted. */
  cancelActive(projectId: string, reason: string): Promise<void>;
}

/** The retention fields a create or update sets: only those present (null: the default). */
function retentionData(r: RetentionSettingsInput | undefined) {
  return {
    ...(r?.retainReadyPerBranch !== undefined ? { retainReadyPerBranch: r.retainReadyPerBranch } : {}),
    ...(r?.previewMaxAgeDays !== undefined ? { previewMaxAgeDays: r.previewMaxAgeDays } : {}),
    ...(r?.buildCacheExpiryDays !== undefined ? { buildCacheExpiryDays: r.buildCacheExpiryDays } : {}),
  };
}

/** Projects: their settings, their encrypted env, and deleting them with their routes. */
export class ProjectService {
  constructor(private readonly deps: ProjectServiceDeps) {}

  /** Creates the project in `teamId` (the default team when the caller named none). */
  async create(body: CreateProjectBody, teamId: string = DEFAULT_TEAM_ID): Promise<ProjectView> {
    // `<slug>-git-<branch>` is another project's branch alias; a new slug must never be one.
    // Checked here rather than in SlugSchema, so existing projects with such a slug stay reachable.
    if (body.slug.includes(BRANCH_ALIAS_INFIX)) {
      throw AppError.badRequest(
        `slug: must not contain "${BRANCH_ALIAS_INFIX}" (it names branch preview hosts)`,
        'slug',
      );
    }
    this.assertRegions(body.regions);
    assertRepoUrlAllowed(body.repoUrl, this.deps.config.allowLocalRepos);
    const id = `prj_${newId()}`;
    const protection = await protectionData(body.protection, null, this.deps.protection?.enabled ?? false);
    try {
      // No `include` on the write: Prisma runs a nested write in a transaction on one connection,
      // and loads included relations concurrently, which pg 9 refuses. The view is read after.
      await withRoomForProject(this.deps.db, teamId, (tx) =>
        tx.project.create({
          data: {
            id,
            teamId,
            slug: body.slug,
            repoUrl: body.repoUrl,
            gitRef: body.gitRef ?? null,
            // Unset: the build detects the framework and runs its preset's commands.
            installCommand: body.installCommand ?? null,
            buildCommand: body.buildCommand ?? null,
            ignoreCommand: body.ignoreCommand ?? null,
            outputDir: body.outputDir ?? null,
            rootDir: body.rootDir ?? null,
            regions: body.regions,
            buildCacheEnabled: body.buildCacheEnabled ?? true,
            ...retentionData(body.retention),
            ...protection,
            envVars: {
              create: Object.entries(body.env ?? {}).map(([key, value]) => ({
                key,
                ciphertext: this.deps.cipher.encrypt(id, key, value),
              })),
            },
          },
          select: { id: true },
        }),
      );
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
        throw AppError.conflict(`slug: "${body.slug}" is already taken`, 'slug');
      }
      throw err;
    }
    return this.view(id);
  }

  /** Newest first; `visible` limits it to what a caller may see (authz/principal.ts). */
  async list(visible?: ProjectVisibility & { slug?: string }): Promise<ProjectView[]> {
    const projects = await this.deps.db.project.findMany({
      where: visible ? visibleProjectsWhere(visible, visible.slug) : {},
      include: projectViewInclude,
      orderBy: { createdAt: 'desc' },
    });
    return projects.map((p) => toProjectView(p, this.deps.urls));
  }

  async get(slug: string): Promise<ProjectView> {
    return toProjectView(await this.find(slug), this.deps.urls);
  }

  async update(slug: string, body: UpdateProjectBody): Promise<ProjectView> {
    const project = await this.find(slug);
    if (body.regions) this.assertRegions(body.regions);
    if (body.repoUrl) assertRepoUrlAllowed(body.repoUrl, this.deps.config.allowLocalRepos);
    const env = Object.entries(body.env ?? {});
    const protection = await protectionData(body.protection, project, this.deps.protection?.enabled ?? false);
    await this.deps.db.$transaction(async (tx) => {
      for (const [key, value] of env) {
        if (value === null) {
          await tx.envVar.deleteMany({ where: { projectId: project.id, key } });
        } else {
          const ciphertext = this.deps.cipher.encrypt(project.id, key, value);
          await tx.envVar.upsert({
            where: { projectId_key: { projectId: project.id, key } },
            create: { projectId: project.id, key, ciphertext },
            update: { ciphertext },
          });
        }
      }
      await tx.project.update({
        where: { id: project.id },
        data: {
          ...(body.repoUrl !== undefined ? { repoUrl: body.repoUrl } : {}),
          ...(body.gitRef !== undefined ? { gitRef: body.gitRef } : {}),
          ...(body.installCommand !== undefined ? { installCommand: body.installCommand } : {}),
          ...(body.buildCommand !== undefined ? { buildCommand: body.buildCommand } : {}),
          ...(body.ignoreCommand !== undefined ? { ignoreCommand: body.ignoreCommand } : {}),
          ...(body.outputDir !== undefined ? { outputDir: body.outputDir } : {}),
          ...(body.rootDir !== undefined ? { rootDir: body.rootDir } : {}),
          ...(body.regions !== undefined ? { regions: body.regions } : {}),
          ...(body.buildCacheEnabled !== undefined ? { buildCacheEnabled: body.buildCacheEnabled } : {}),
          ...retentionData(body.retention),
          ...protection,
        },
        select: { id: true },
      });
    });
    // After the commit, since each record is stamped with the settings as saved. A KV failure
    // answers 5xx with the settings saved; sending the same PATCH again finishes the rewrite.
    if (body.protection) await this.deps.protection?.restamp(project.id);
    // Read outside the transaction, for the reason given in create().
    return this.view(project.id);
  }

  private async view(id: string): Promise<ProjectView> {
    const project = await this.deps.db.project.findUniqueOrThrow({
      where: { id },
      include: projectViewInclude,
    });
    return toProjectView(project, this.deps.urls);
  }

  /**
   * Routes go first: if KV cannot be reached the project stays, and deleting again retries.
   * The reverse order could leave hostnames serving a project the API no longer knows.
   */
  async delete(slug: string): Promise<void> {
    const project = await this.deps.db.project.findUnique({
      where: { slug },
      include: {
        domains: true,
        deployments: { select: { id: true } },
        branchAliases: { select: { hostname: true } },
      },
    });
    if (!project) throw AppError.notFound(`Project ${slug}`, 'slug');
    await this.deps.cancelActive(project.id, 'the project was deleted');
    await this.deps.routes.unpublishProject(
      project,
      project.deployments.map((d) => d.id),
      project.branchAliases.map((a) => a.hostname),
    );
    await this.deps.db.project.delete({ where: { id: project.id } });
  }

  /**
   * Attaches a custom domain. It serves the production deployment at once when there is one;
   * otherwise the next ready deployment writes it with the production host.
   */
  async addDomain(slug: string, hostname: string): Promise<ProjectView> {
    if (this.deps.routes.isPlatformHost(hostname)) {
      throw AppError.badRequest(`hostname: ${hostname} is under the platform's own domain`, 'hostname');
    }
    const project = await this.find(slug);
    try {
      await this.deps.db.customDomain.create({ data: { hostname, projectId: project.id } });
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
        throw AppError.conflict(`hostname: ${hostname} is already attached to a project`, 'hostname');
      }
      throw err;
    }
    const production = project.productionDeploymentId
      ? await this.deps.db.deployment.findUnique({ where: { id: project.productionDeploymentId } })
      : null;
    if (production?.status === 'ready') {
      try {
        await this.deps.routes.publishCustomDomain(project.slug, hostname, production);
      } catch (err) {
        // Leave nothing half-written: a domain without its record would look attached but never serve.
        await this.deps.db.customDomain.delete({ where: { hostname } });
        throw err;
      }
    }
    return this.get(slug);
  }

  /** The record goes first, so a failure leaves the domain attached and a retry can finish. */
  async removeDomain(slug: string, hostname: string): Promise<void> {
    const project = await this.find(slug);
    const domain = await this.deps.db.customDomain.findUnique({ where: { hostname } });
    if (!domain || domain.projectId !== project.id)
      throw AppError.notFound(`Domain ${hostname} of ${slug}`, 'hostname');
    await this.deps.routes.unpublishHost(hostname);
    await this.deps.db.customDomain.delete({ where: { hostname } });
  }

  /** Decrypted env for a build; never returned by the API. */
  async envFor(projectId: string): Promise<Record<string, string>> {
    const vars = await this.deps.db.envVar.findMany({ where: { projectId } });
    return Object.fromEntries(
      vars.map((v) => [v.key, this.deps.cipher.decrypt(projectId, v.key, v.ciphertext)]),
    );
  }

  private row(slug: string) {
    return this.deps.db.project.findUnique({ where: { slug }, include: projectViewInclude });
  }

  private async find(slug: string) {
    const project = await this.row(slug);
    if (!project) throw AppError.notFound(`Project ${slug}`, 'slug');
    return project;
  }

  /** Where a project goes when nobody said: the platform's first configured region. */
  defaultRegions(): string[] {
    return [this.deps.config.regions[0]!.id];
  }

  /** `field` names a list (`regions` → `regions.1`), or with `single` one value (`region`). */
  assertRegions(regions: string[], field = 'regions', single = false): void {
    const known = new Set(this.deps.config.regions.map((r) => r.id));
    regions.forEach((region, i) => {
      if (!known.has(region)) {
        const name = single ? field : `${field}.${i}`;
        throw AppError.badRequest(
          `${name}: "${region}" is not a configured region (${[...known].join(', ')})`,
          name,
        );
      }
    });
  }
}

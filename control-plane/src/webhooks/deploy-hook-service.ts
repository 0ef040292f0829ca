import { createHash, randomBytes } from 'node:crypto';
import {
  AppError,
  type CreateDeployHookBody,
  type DeployHookResponse,
  type DeployHookSecretView,
  type DeployHookView,
} from '@deploysphere/contracts';
import type { Db, DeployHook, Project } from '@deploysphere/db';
import type { DeploymentService } from '../deployments/deployment-service.js';
import { newId } from '../ids.js';
import { productionBranchOf } from './payloads.js';

/** Where deploy hook URLs live, outside `/api/v1` and its bearer check. */
export const DEPLOY_HOOK_PATH_PREFIX = '/hooks/deploy';
/** A project keeps at most this many hooks: each is a standing credential. */
const MAX_HOOKS_PER_PROJECT = 20;

/** The URL's secret is looked up by its digest: the database never holds a usable URL. */
const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');

export interface DeployHookServiceDeps {
  db: Db;
  deployments: DeploymentService;
}

/**
 * Deploy hooks, as Vercel's and Netlify's build hooks: a secret URL that deploys one branch of
 * the project's own repository when POSTed to, from a CMS, a cron job or another CI. The URL is
 * the whole credential, so it is 256 random bits, shown once and stored as its sha256 only.
 */
export class DeployHookService {
  constructor(private readonly deps: DeployHookServiceDeps) {}

  async create(slug: string, body: CreateDeployHookBody, origin: string): Promise<DeployHookSecretView> {
    const project = await this.project(slug);
    if (project.repoUrl === '') {
      throw AppError.conflict(`slug: ${slug} has no repository to deploy from`, 'slug');
    }
    const count = await this.deps.db.deployHook.count({ where: { projectId: project.id } });
    if (count >= MAX_HOOKS_PER_PROJECT) {
      throw AppError.conflict(
        `A project has at most ${MAX_HOOKS_PER_PROJECT} deploy hooks; revoke one first`,
      );
    }
    const secret = randomBytes(32).toString('base64url');
    const hook = await this.deps.db.deployHook.create({
      data: {
        id: newId(),
        projectId: project.id,
        name: body.name,
        branch: body.branch,
        secretHash: digest(secret),
      },
    });
    return { ...view(hook), url: `${origin.replace(/\/+$/, '')}${DEPLOY_HOOK_PATH_PREFIX}/${secret}` };
  }

  async list(slug: string): Promise<DeployHookView[]> {
    const project = await this.project(slug);
    const hooks = await this.deps.db.deployHook.findMany({
      where: { projectId: project.id },
      orderBy: { createdAt: 'asc' },
    });
    return hooks.map(view);
  }

  /** Revokes the hook: its URL answers 404 at once. */
  async revoke(slug: string, hookId: string): Promise<void> {
    const project = await this.project(slug);
    const { count } = await this.deps.db.deployHook.deleteMany({
      where: { id: hookId, projectId: project.id },
    });
    if (count === 0) throw AppError.notFound(`Deploy hook ${hookId}`, 'hookId');
  }

  /**
   * A POST to a hook's URL: a deployment of the branch's head as it is when the build clones.
   * Production when the branch is the project's production branch (its gitRef), a preview on the
   * branch's alias otherwise. The caller chooses nothing: not the branch, commit or settings.
   */
  async trigger(secret: string): Promise<DeployHookResponse> {
    const hook = await this.deps.db.deployHook.findUnique({
      where: { secretHash: digest(secret) },
      include: { project: true },
    });
    if (!hook) throw AppError.notFound('Deploy hook', 'secret');
    const { project } = hook;
    const target = hook.branch === productionBranchOf(project.gitRef, null) ? 'production' : 'preview';
    const deploymentId = await this.deps.deployments.createFromPush({
      projectId: project.id,
      slug: project.slug,
      regions: project.regions,
      target,
      branch: hook.branch,
      commitSha: null,
      gitRef: hook.branch,
      commitMessage: `Deploy hook "${hook.name}"`,
      commitAuthor: null,
    });
    await this.deps.db.deployHook.update({ where: { id: hook.id }, data: { lastTriggeredAt: new Date() } });
    return { outcome: 'deployed', deploymentId, target };
  }

  private async project(slug: string): Promise<Project> {
    const project = await this.deps.db.project.findUnique({ where: { slug } });
    if (!project) throw AppError.notFound(`Project ${slug}`, 'slug');
    return project;
  }
}

function view(h: DeployHook): DeployHookView {
  return {
    id: h.id,
    name: h.name,
    branch: h.branch,
    createdAt: h.createdAt.toISOString(),
    lastTriggeredAt: h.lastTriggeredAt?.toISOString() ?? null,
  };
}

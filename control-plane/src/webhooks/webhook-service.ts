import { randomBytes } from 'node:crypto';
import {
  AppError,
  skipMarkerOf,
  type GitApiProvider,
  type GitProvider,
  type SetGitTokenBody,
  type HookResponse,
  type WebhookDeliveryView,
  type WebhookSecretView,
  type WatchPaths,
  type WebhookView,
} from '@deploysphere/contracts';
import { Prisma, type Db, type Project } from '@deploysphere/db';
import type { FastifyBaseLogger } from 'fastify';
import type { DeploymentService, PushDeploy } from '../deployments/deployment-service.js';
import { DEFAULT_API_URL } from '../git-providers/index.js';
import type { RouteWriter } from '../hosts/route-writer.js';
import { newId } from '../ids.js';
import type { EnvCipher } from '../projects/env-cipher.js';
import {
  deliveryHeader,
  deliveryIdOf,
  eventOf,
  isPush,
  parseBody,
  parsePush,
  productionBranchOf,
  sameRepository,
  type Push,
} from './payloads.js';
import { apiTokenName, type CommitNotifier } from './commit-notifier.js';
import { isPullRequest, parsePullRequest, type PullRequestEvent } from './pull-requests.js';
import { watchPathsSkip } from './watch-paths.js';
import { SIGNATURE_HEADER, verifySignature, type HeaderBag } from './signatures.js';
import type { WebhookMetrics } from './webhook-metrics.js';

/** A delivery still `received` after this was abandoned by a control plane that stopped. */
const ABANDONED_CLAIM_MS = 5 * 60_000;

/** Where hook URLs live, outside `/api/v1` and its bearer check. */
export const HOOK_PATH_PREFIX = '/hooks/git';

export interface WebhookServiceDeps {
  db: Db;
  cipher: EnvCipher;
  deployments: DeploymentService;
  metrics: WebhookMetrics;
  log: FastifyBaseLogger;
  /** Removes a branch's alias host when its pull request closes or the branch is deleted. */
  routes: RouteWriter;
  /** Reports deployments back to the provider (commit statuses, PR comments); absent: never. */
  notifier?: CommitNotifier;
}

export interface HookRequest {
  hookId: string;
  headers: HeaderBag;
  body: Buffer | undefined;
  contentType: string | undefined;
}

/** What handling a delivery came to; `error` is answered after the outcome is recorded. */
interface Handled {
  outcome: 'deployed' | 'skipped' | 'ignored';
  reason: string | null;
  deploymentId?: string;
  branch?: string | null;
  commitSha?: string | null;
  error?: AppError;
}

/** The secret's name in the cipher's associated data; `:` never occurs in an env key, so no clash. */
const secretName = (provider: GitProvider) => `webhook:${provider}`;

/**
 * A project's Git webhooks: connecting and rotating them, and handling their deliveries. A
 * delivery is authenticated by the hook's secret before anything is read or written; then it is
 * recorded once per provider delivery id, and becomes a production deployment, a preview, or an
 * ignored delivery with its reason.
 */
export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  /** Creates the provider's hook, or rotates its secret (the URL stays; the old secret stops working). */
  async connect(slug: string, provider: GitProvider, origin: string): Promise<WebhookSecretView> {
    const project = await this.project(slug);
    const secret = randomBytes(32).toString('hex');
    const secretCiphertext = this.deps.cipher.encrypt(project.id, secretName(provider), secret);
    const hook = await this.deps.db.gitWebhook.upsert({
      where: { projectId_provider: { projectId: project.id, provider } },
      create: { id: newId(), projectId: project.id, provider, secretCiphertext },
      update: { secretCiphertext, rotatedAt: new Date() },
    });
    return { provider, url: hookUrl(origin, hook.id), secret };
  }

  async list(slug: string, origin: string): Promise<WebhookView[]> {
    const project = await this.project(slug);
    const hooks = await this.deps.db.gitWebhook.findMany({
      where: { projectId: project.id },
      orderBy: { createdAt: 'asc' },
    });
    return hooks.map((h) => ({
      provider: h.provider as GitProvider,
      url: hookUrl(origin, h.id),
      createdAt: h.createdAt.toISOString(),
      rotatedAt: h.rotatedAt.toISOString(),
      apiUrl: h.apiTokenCiphertext
        ? (h.apiUrl ?? DEFAULT_API_URL[h.provider as GitApiProvider] ?? null)
        : null,
      reportsStatus: h.apiTokenCiphertext !== null,
    }));
  }

  /**
   * Sets the token commit statuses and PR comments are posted with, encrypted as env values are
   * (the project id and `gitapi:<provider>` bound in). The hook must be connected first: the
   * token only reports what its deliveries started.
   */
  async setApiToken(slug: string, provider: GitApiProvider, body: SetGitTokenBody): Promise<void> {
    const project = await this.project(slug);
    if (!body.apiUrl && !DEFAULT_API_URL[provider]) {
      throw AppError.badRequest(`apiUrl: is required for ${provider} (it is always self-hosted)`, 'apiUrl');
    }
    const apiTokenCiphertext = this.deps.cipher.encrypt(project.id, apiTokenName(provider), body.token);
    const { count } = await this.deps.db.gitWebhook.updateMany({
      where: { projectId: project.id, provider },
      data: { apiTokenCiphertext, apiUrl: body.apiUrl ?? null },
    });
    if (count === 0) throw AppError.notFound(`The ${provider} webhook of ${slug}`, 'provider');
  }

  async watchPaths(slug: string): Promise<WatchPaths> {
    const project = await this.project(slug);
    const row = await this.deps.db.projectWatchPaths.findUnique({ where: { projectId: project.id } });
    return { paths: row?.paths ?? [] };
  }

  /** Replaces the project's watch paths; an empty list builds every push again. */
  async setWatchPaths(slug: string, body: WatchPaths): Promise<WatchPaths> {
    const project = await this.project(slug);
    const paths = [...new Set(body.paths)];
    await this.deps.db.projectWatchPaths.upsert({
      where: { projectId: project.id },
      create: { projectId: project.id, paths },
      update: { paths },
    });
    return { paths };
  }

  async clearApiToken(slug: string, provider: GitApiProvider): Promise<void> {
    const project = await this.project(slug);
    const { count } = await this.deps.db.gitWebhook.updateMany({
      where: { projectId: project.id, provider, apiTokenCiphertext: { not: null } },
      data: { apiTokenCiphertext: null, apiUrl: null },
    });
    if (count === 0) throw AppError.notFound(`The ${provider} API token of ${slug}`, 'provider');
  }

  /** Removes the hook: its URL answers 404 from now on. Its deliveries stay in the log. */
  async disconnect(slug: string, provider: GitProvider): Promise<void> {
    const project = await this.project(slug);
    const { count } = await this.deps.db.gitWebhook.deleteMany({
      where: { projectId: project.id, provider },
    });
    if (count === 0) throw AppError.notFound(`The ${provider} webhook of ${slug}`, 'provider');
  }

  async deliveries(slug: string, limit: number): Promise<WebhookDeliveryView[]> {
    const project = await this.project(slug);
    const rows = await this.deps.db.webhookDelivery.findMany({
      where: { projectId: project.id },
      orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
    return rows.map((r) => ({
      id: r.id,
      provider: r.provider as GitProvider,
      deliveryId: r.deliveryId,
      event: r.event,
      outcome: r.outcome as WebhookDeliveryView['outcome'],
      reason: r.reason,
      deploymentId: r.deploymentId,
      branch: r.branch,
      commitSha: r.commitSha,
      receivedAt: r.receivedAt.toISOString(),
    }));
  }

  /**
   * One delivery to a hook URL. Order matters: the signature is checked first, over the raw
   * bytes, and a delivery that fails it leaves nothing but a counter behind. Then the delivery id
   * is claimed (a replay finds it taken), and only then is the payload read.
   */
  async receive(req: HookRequest): Promise<{ status: 200 | 202; body: HookResponse }> {
    const hook = await this.deps.db.gitWebhook.findUnique({
      where: { id: req.hookId },
      include: { project: true },
    });
    if (!hook) {
      this.deps.metrics.rejected('unknown', 'unknown_hook');
      throw AppError.notFound('Hook', 'hookId');
    }
    const provider = hook.provider as GitProvider;
    const secret = this.deps.cipher.decrypt(hook.projectId, secretName(provider), hook.secretCiphertext);
    const check = verifySignature(provider, secret, req.headers, req.body ?? Buffer.alloc(0));
    if (check !== 'ok') {
      const name = SIGNATURE_HEADER[provider];
      this.deps.metrics.rejected(provider, check === 'missing' ? 'missing_signature' : 'bad_signature');
      throw new AppError(
        401,
        'bad_signature',
        check === 'missing'
          ? `headers.${name}: is required`
          : `headers.${name}: does not match the hook's secret`,
        { field: `headers.${name}` },
      );
    }

    const deliveryId = deliveryIdOf(provider, req.headers);
    if (!deliveryId) {
      const field = `headers.${deliveryHeader(provider)}`;
      throw AppError.badRequest(`${field}: expected the delivery id (1 to 200 printable characters)`, field);
    }
    const event = eventOf(provider, req.headers);
    const recordId = newId();
    if (!(await this.claim(recordId, hook.projectId, provider, deliveryId, event))) {
      this.deps.metrics.handled(provider, 'duplicate');
      return {
        status: 200,
        body: { outcome: 'duplicate', deliveryId, reason: 'this delivery id was received before' },
      };
    }

    let handled: Handled;
    try {
      handled = await this.handle(hook.project, provider, event, req);
    } catch (err) {
      // Not handled (the database or NATS failed): forget the claim, so that the provider's
      // redelivery is handled rather than refused as a replay.
      await this.deps.db.webhookDelivery.delete({ where: { id: recordId } }).catch(() => undefined);
      throw err;
    }
    await this.deps.db.webhookDelivery.update({
      where: { id: recordId },
      data: {
        outcome: handled.outcome,
        reason: handled.reason,
        deploymentId: handled.deploymentId ?? null,
        branch: handled.branch ?? null,
        commitSha: handled.commitSha ?? null,
      },
    });
    this.deps.metrics.handled(provider, handled.outcome);
    if (handled.error) throw handled.error;
    if (handled.outcome === 'deployed') {
      return { status: 202, body: { outcome: 'deployed', deliveryId, deploymentId: handled.deploymentId! } };
    }
    if (handled.outcome === 'skipped') {
      return {
        status: 200,
        body: {
          outcome: 'skipped',
          deliveryId,
          deploymentId: handled.deploymentId!,
          reason: handled.reason ?? '',
        },
      };
    }
    return { status: 200, body: { outcome: 'ignored', deliveryId, reason: handled.reason ?? '' } };
  }

  /**
   * Records the delivery as `received`; false when its id was received before. A claim left
   * `received` by a control plane that died while handling it is taken over after a while, so
   * the provider's redelivery is not refused forever.
   */
  private async claim(
    id: string,
    projectId: string,
    provider: GitProvider,
    deliveryId: string,
    event: string,
  ): Promise<boolean> {
    const data = { id, projectId, provider, deliveryId, event, outcome: 'received' };
    try {
      await this.deps.db.webhookDelivery.create({ data });
      return true;
    } catch (err) {
      if (!(err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002')) throw err;
    }
    const { count } = await this.deps.db.webhookDelivery.deleteMany({
      where: {
        projectId,
        provider,
        deliveryId,
        outcome: 'received',
        receivedAt: { lt: new Date(Date.now() - ABANDONED_CLAIM_MS) },
      },
    });
    if (count === 0) return false;
    try {
      await this.deps.db.webhookDelivery.create({ data });
      return true;
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') return false;
      throw err;
    }
  }

  private async handle(
    project: Project,
    provider: GitProvider,
    event: string,
    req: HookRequest,
  ): Promise<Handled> {
    const body = () => parseBody(req.body ?? Buffer.alloc(0), req.contentType);
    try {
      if (isPush(provider, event))
        return await this.handlePush(project, provider, parsePush(provider, body()));
      if (isPullRequest(provider, event)) {
        return await this.handlePullRequest(project, provider, parsePullRequest(provider, body()));
      }
    } catch (err) {
      if (err instanceof AppError && err.status === 400) {
        return { ...ignoredOf(`malformed payload: ${err.message}`), error: err };
      }
      throw err;
    }
    return ignoredOf(`event "${event}" is not handled (only pushes and pull requests deploy)`);
  }

  private async handlePush(project: Project, provider: GitProvider, push: Push): Promise<Handled> {
    const ignored = (reason: string) => ignoredOf(reason, push.branch, push.after);
    if (!sameRepository(project.repoUrl, push.repoUrls)) {
      const given = (push.repoUrls[0] ?? '(none given)').slice(0, 200);
      return ignored(`unknown repository: ${given} is not this project's`);
    }
    if (push.branch === null) return ignored(`${push.ref} is not a branch`);
    const production = productionBranchOf(project.gitRef, push.defaultBranch);
    if (push.deleted) {
      // Production is never taken down by a delivery; a preview branch's alias goes with it.
      if (push.branch === production) return ignored(`branch ${push.branch} was deleted`);
      const removed = await this.removeAlias(project, push.branch, `branch ${push.branch} was deleted`);
      return ignored(`branch ${push.branch} was deleted${removed ? `; removed its alias ${removed}` : ''}`);
    }
    if (production === null) {
      return ignored("the production branch is unknown: set the project's gitRef, or send defaultBranch");
    }
    const target = push.branch === production ? 'production' : 'preview';
    const pushed: PushDeploy = {
      projectId: project.id,
      slug: project.slug,
      regions: project.regions,
      target,
      branch: push.branch,
      commitSha: push.after,
      commitMessage: push.message,
      commitAuthor: push.author,
    };
    const marker = skipMarkerOf(push.message);
    if (marker) return this.skipped(pushed, `skipped: the commit message says ${marker}`);
    const watch = await this.deps.db.projectWatchPaths.findUnique({ where: { projectId: project.id } });
    const outside = watchPathsSkip(watch?.paths ?? [], push.changedFiles);
    if (outside) return this.skipped(pushed, outside);
    const same = await this.alreadyDeployed(project, target, push.branch, push.after);
    if (same) return ignored(`commit ${push.after.slice(0, 12)} is already deployed as ${same}`);
    const deploymentId = await this.deps.deployments.createFromPush(pushed);
    await this.notice(project, provider, deploymentId, push.apiRepo, push.after, null);
    return {
      outcome: 'deployed',
      reason: `${target} deployment ${deploymentId}`,
      deploymentId,
      branch: push.branch,
      commitSha: push.after,
    };
  }

  /**
   * Opened, updated or reopened: a preview of the head commit, on the head branch's alias.
   * Closed or merged: the alias goes (the deployments and their own URLs stay). A pull request
   * from a fork is never built: its head is anyone's code, and a build runs with the project's
   * env (see docs/git-deploys.md, "Pull requests from forks").
   */
  private async handlePullRequest(
    project: Project,
    provider: GitProvider,
    pr: PullRequestEvent,
  ): Promise<Handled> {
    const ignored = (reason: string) => ignoredOf(reason, pr.headBranch, pr.headSha);
    const name = `pull request #${pr.number}`;
    if (!sameRepository(project.repoUrl, pr.repoUrls)) {
      const given = (pr.repoUrls[0] ?? '(none given)').slice(0, 200);
      return ignored(`unknown repository: ${given} is not this project's`);
    }
    if (pr.fromFork) {
      return ignoredOf(
        `${name} comes from a fork (${pr.headRepo}): fork pull requests are not built`,
        null,
        pr.headSha,
      );
    }
    if (pr.action === 'other')
      return ignored(`${name} action "${pr.rawAction.slice(0, 100)}" is not handled`);
    const production = productionBranchOf(project.gitRef, pr.defaultBranch);
    if (pr.headBranch === production) return ignored(`${name}'s head is the production branch`);
    if (pr.action === 'close') {
      const removed = await this.removeAlias(project, pr.headBranch, `${name} was closed`);
      return ignored(`${name} was ${pr.rawAction}${removed ? `; removed its alias ${removed}` : ''}`);
    }
    const titleMarker = skipMarkerOf(pr.title);
    if (titleMarker) {
      return this.skipped(
        {
          projectId: project.id,
          slug: project.slug,
          regions: project.regions,
          target: 'preview',
          branch: pr.headBranch,
          commitSha: pr.headSha,
          commitMessage: pr.title,
          commitAuthor: pr.author,
          pullRequest: pr.number,
        },
        `skipped: the title says ${titleMarker}`,
      );
    }

    const same = await this.alreadyDeployed(project, 'preview', pr.headBranch, pr.headSha);
    if (same) {
      // The branch's push got there first: that deployment is this pull request's preview too.
      await this.deps.db.deployment.update({ where: { id: same }, data: { pullRequest: pr.number } });
      await this.notice(project, provider, same, pr.apiRepo, pr.headSha, pr.number);
      return ignored(`commit ${pr.headSha.slice(0, 12)} is already deployed as ${same}`);
    }
    const deploymentId = await this.deps.deployments.createFromPush({
      projectId: project.id,
      slug: project.slug,
      regions: project.regions,
      target: 'preview',
      branch: pr.headBranch,
      commitSha: pr.headSha,
      commitMessage: pr.title,
      commitAuthor: pr.author,
      pullRequest: pr.number,
    });
    await this.notice(project, provider, deploymentId, pr.apiRepo, pr.headSha, pr.number);
    return {
      outcome: 'deployed',
      reason: `preview deployment ${deploymentId} of ${name}`,
      deploymentId,
      branch: pr.headBranch,
      commitSha: pr.headSha,
    };
  }

  /**
   * A delivery that builds nothing on purpose: a `skipped` deployment records it in the history,
   * with the reason (without the delivery log's "skipped: " prefix). Nothing is queued, and the
   * provider is not told (there is no build to report).
   */
  private async skipped(push: PushDeploy, reason: string): Promise<Handled> {
    const deploymentId = await this.deps.deployments.createSkipped(push, reason.replace(/^skipped: /, ''));
    return {
      outcome: 'skipped',
      reason,
      deploymentId,
      branch: push.branch,
      commitSha: push.commitSha,
    };
  }

  /**
   * Records that the deployment is to be reported to the provider, and reports it (pending) at
   * once; later status changes are reported as the state machine announces them.
   */
  private async notice(
    project: Project,
    provider: GitProvider,
    deploymentId: string,
    apiRepo: string | null,
    sha: string,
    pullRequest: number | null,
  ): Promise<void> {
    if (provider === 'generic' || !apiRepo || !this.deps.notifier) return;
    await this.deps.db.gitCommitNotice.upsert({
      where: { deploymentId },
      create: {
        deploymentId,
        projectId: project.id,
        provider,
        repo: apiRepo.slice(0, 300),
        sha,
        pullRequest,
      },
      update: pullRequest !== null ? { pullRequest } : {},
    });
    void this.deps.notifier.report(deploymentId, { comment: pullRequest !== null });
  }

  /**
   * Takes a preview branch's alias down: its queued and building previews are cancelled first,
   * so none of them puts it back when it becomes ready; then the row and the route record go.
   * Answers the host removed, if there was one.
   */
  private async removeAlias(project: Project, branch: string, reason: string): Promise<string | null> {
    const active = await this.deps.db.deployment.findMany({
      where: { projectId: project.id, target: 'preview', branch, status: { in: ['queued', 'building'] } },
      select: { id: true },
    });
    for (const d of active) {
      try {
        await this.deps.deployments.cancel(d.id, reason);
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'conflict')) throw err;
      }
    }
    const alias = await this.deps.db.branchAlias.findUnique({
      where: { projectId_branch: { projectId: project.id, branch } },
    });
    if (!alias) return null;
    await this.deps.routes.unpublishHost(alias.hostname);
    await this.deps.db.branchAlias.deleteMany({ where: { hostname: alias.hostname, projectId: project.id } });
    return alias.hostname;
  }

  /**
   * The deployment of this very commit that is on its way or serving the branch now, if any. The
   * signature covers the body only, so a captured delivery replayed under a new delivery id would
   * otherwise build the same commit again. A commit that was live once but is not now (a branch
   * force-pushed back to it) is deployed again, as the user expects.
   */
  private async alreadyDeployed(
    project: Project,
    target: string,
    branch: string,
    sha: string,
  ): Promise<string | null> {
    const rows = await this.deps.db.deployment.findMany({
      where: {
        projectId: project.id,
        branch,
        commitSha: sha,
        target: target as 'production' | 'preview',
        status: { in: ['queued', 'building', 'ready'] },
      },
      select: { id: true, status: true },
    });
    const alias =
      target === 'preview'
        ? await this.deps.db.branchAlias.findUnique({
            where: { projectId_branch: { projectId: project.id, branch } },
            select: { deploymentId: true },
          })
        : null;
    const live = target === 'production' ? project.productionDeploymentId : (alias?.deploymentId ?? null);
    return rows.find((d) => d.status !== 'ready' || d.id === live)?.id ?? null;
  }

  private async project(slug: string): Promise<Project> {
    const project = await this.deps.db.project.findUnique({ where: { slug } });
    if (!project) throw AppError.notFound(`Project ${slug}`, 'slug');
    return project;
  }
}

function ignoredOf(reason: string, branch: string | null = null, commitSha: string | null = null): Handled {
  return { outcome: 'ignored', reason, branch, commitSha };
}

export function hookUrl(origin: string, id: string): string {
  return `${origin.replace(/\/+$/, '')}${HOOK_PATH_PREFIX}/${id}`;
}

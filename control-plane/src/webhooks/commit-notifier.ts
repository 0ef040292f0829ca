import { TERMINAL_STATUSES, type GitApiProvider, type GitProvider } from '@deploysphere/contracts';
import type { Db, DeploymentStatus } from '@deploysphere/db';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { FastifyBaseLogger } from 'fastify';
import {
  DEFAULT_API_URL,
  providerApi,
  ProviderApiError,
  type ApiTarget,
  type CommitState,
  type GitProviderApi,
} from '../git-providers/index.js';
import { followStatusChanges } from '../deployments/status-subscription.js';
import type { SiteUrls } from '../hosts/site-urls.js';
import type { EnvCipher } from '../projects/env-cipher.js';

/** The API token's name in the cipher's associated data; `:` never occurs in an env key. */
export const apiTokenName = (provider: GitProvider) => `gitapi:${provider}`;

/** Every control plane subscribes in this queue group, so each status change is reported once. */
const QUEUE_GROUP = 'git-commit-notices';

const STATE_OF: Record<DeploymentStatus, CommitState> = {
  queued: 'pending',
  building: 'running',
  ready: 'success',
  error: 'failure',
  cancelled: 'cancelled',
  skipped: 'skipped',
};

export interface CommitNotifierDeps {
  db: Db;
  cipher: EnvCipher;
  nats: NatsConnection;
  urls: SiteUrls;
  log: FastifyBaseLogger;
  /** The provider API client; tests may not replace it (they stand in at the HTTP boundary). */
  apiFor?: (provider: GitApiProvider, target: ApiTarget) => GitProviderApi;
}

/**
 * Reports deployments that a delivery made back to the provider: a commit status that goes
 * pending → running → success or failure with the deployment's URL, and for a pull request one
 * comment with the preview's URL, edited in place by every later deployment of it. It follows
 * the state machine's status announcements on NATS and reads the status from the database, so a
 * late or repeated announcement never posts a stale state. Best effort: a provider that is down
 * gets three tries, then a warning in the log; a deployment never waits for it.
 */
export class CommitNotifier {
  private sub: Subscription | undefined;
  /** One report at a time per deployment, in order, so pending never lands after success. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly deps: CommitNotifierDeps) {}

  start(): void {
    if (this.sub) return;
    this.sub = followStatusChanges(this.deps.nats, QUEUE_GROUP, ({ deploymentId }) => {
      void this.report(deploymentId);
    });
  }

  async stop(): Promise<void> {
    this.sub?.unsubscribe();
    this.sub = undefined;
    await Promise.all([...this.chains.values()]);
  }

  /**
   * Reports the deployment's current status, after any report of it still running. `comment`
   * refreshes the pull request's comment even when the status was reported already (a pull
   * request event that found its head deployed by the branch's push).
   */
  report(deploymentId: string, opts: { comment?: boolean } = {}): Promise<void> {
    const previous = this.chains.get(deploymentId) ?? Promise.resolve();
    const next = previous
      .then(() => this.reportNow(deploymentId, opts.comment ?? false))
      .catch((err: unknown) => {
        const e = err instanceof ProviderApiError ? err : undefined;
        // Only what the error names: a method, a path and a status. Never the request.
        this.deps.log.warn(
          { deploymentId, provider: e?.provider, status: e?.status, message: e ? e.message : String(err) },
          'reporting the deployment to the Git provider failed',
        );
      })
      .finally(() => {
        if (this.chains.get(deploymentId) === next) this.chains.delete(deploymentId);
      });
    this.chains.set(deploymentId, next);
    return next;
  }

  private async reportNow(deploymentId: string, forceComment: boolean): Promise<void> {
    const { db } = this.deps;
    const notice = await db.gitCommitNotice.findUnique({ where: { deploymentId } });
    if (!notice) return;
    const provider = notice.provider as GitApiProvider;
    const hook = await db.gitWebhook.findUnique({
      where: { projectId_provider: { projectId: notice.projectId, provider } },
    });
    const apiUrl = hook?.apiUrl ?? DEFAULT_API_URL[provider];
    if (!hook?.apiTokenCiphertext || !apiUrl) return;
    const d = await db.deployment.findUnique({
      where: { id: deploymentId },
      include: { project: { select: { slug: true } } },
    });
    if (!d) return;

    const state = STATE_OF[d.status];
    const changed = notice.lastState !== state;
    const terminal = TERMINAL_STATUSES.has(d.status);
    if (!changed && !(forceComment && terminal)) return;

    const token = this.deps.cipher.decrypt(notice.projectId, apiTokenName(provider), hook.apiTokenCiphertext);
    const api = (this.deps.apiFor ?? providerApi)(provider, { apiUrl, token });
    const deploymentUrl = this.deps.urls.deployment(d.project.slug, d.id);
    const alias =
      d.status === 'ready' && d.target === 'preview' && d.branch
        ? await db.branchAlias.findUnique({
            where: { projectId_branch: { projectId: d.projectId, branch: d.branch } },
          })
        : null;
    const previewUrl = alias?.deploymentId === d.id ? this.deps.urls.host(alias.hostname) : null;

    if (changed) {
      await api.setCommitStatus(notice.repo, notice.sha, {
        state,
        targetUrl: deploymentUrl,
        description: describe(d.status, d.error, d.skipReason),
        context: `deploysphere/${d.project.slug}`,
      });
      // Conditional, so two reports of one deployment racing on two control planes settle once.
      await db.gitCommitNotice.updateMany({
        where: { deploymentId, lastState: notice.lastState },
        data: { lastState: state },
      });
    }
    if (notice.pullRequest !== null && terminal && d.status !== 'cancelled' && d.status !== 'skipped') {
      await this.comment(api, notice.projectId, provider, notice.repo, notice.pullRequest, {
        slug: d.project.slug,
        sha: notice.sha,
        ready: d.status === 'ready',
        previewUrl,
        deploymentUrl,
      });
    }
  }

  /** The pull request's one comment: edited in place, or posted anew when it was deleted. */
  private async comment(
    api: GitProviderApi,
    projectId: string,
    provider: GitApiProvider,
    repo: string,
    pullRequest: number,
    view: { slug: string; sha: string; ready: boolean; previewUrl: string | null; deploymentUrl: string },
  ): Promise<void> {
    const body = commentBody(view);
    const key = { projectId_provider_repo_pullRequest: { projectId, provider, repo, pullRequest } };
    const existing = await this.deps.db.pullRequestComment.findUnique({ where: key });
    if (existing && (await api.updateComment(repo, pullRequest, existing.commentId, body))) return;
    const commentId = await api.createComment(repo, pullRequest, body);
    await this.deps.db.pullRequestComment.upsert({
      where: key,
      create: { projectId, provider, repo, pullRequest, commentId },
      update: { commentId },
    });
  }
}

function describe(status: DeploymentStatus, error: string | null, skipReason: string | null): string {
  switch (status) {
    case 'queued':
      return 'Deployment queued';
    case 'building':
      return 'Building';
    case 'ready':
      return 'Deployed';
    case 'error':
      return 'The deployment failed';
    case 'cancelled':
      return error?.startsWith('superseded') ? 'Superseded by a newer commit' : 'Cancelled';
    case 'skipped':
      // Providers cap descriptions (GitHub at 140 characters).
      return `Skipped: ${skipReason ?? 'nothing to build'}`.slice(0, 140);
  }
}

/** What the pull request's comment says: the preview's stable URL first, then this commit's own. */
export function commentBody(v: {
  slug: string;
  sha: string;
  ready: boolean;
  previewUrl: string | null;
  deploymentUrl: string;
}): string {
  const lines = [
    `**DeploySphere** · \`${v.slug}\` · commit \`${v.sha.slice(0, 12)}\``,
    '',
    v.ready ? '✅ Ready' : '❌ The deployment failed',
    '',
  ];
  if (v.ready && v.previewUrl) lines.push(`Preview: ${v.previewUrl}`);
  lines.push(`${v.ready ? 'Deployment' : 'Details'}: ${v.deploymentUrl}`);
  return lines.join('\n');
}

import type { CommitState, CommitStatus, GitProviderApi } from './provider-api.js';
import { providerRequest, repoPath, segment, type ApiTarget } from './provider-http.js';

/** Commit status states of GitHub and of Gitea/Forgejo: no "running", and a cancel is an "error". */
const STATE: Record<CommitState, string> = {
  pending: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  cancelled: 'error',
  skipped: 'success',
};

/** What sets one GitHub-shaped API apart from another. */
export interface GitHubStyleDialect {
  provider: 'github' | 'gitea';
  /** The request headers that carry the token (and any version pinning). */
  headers(token: string): Record<string, string>;
  /** The longest status description the provider takes; undefined: no limit. */
  descriptionLimit?: number;
}

/**
 * The REST API GitHub defined and Gitea and Forgejo copied (`/repos/:owner/:repo/statuses/:sha`,
 * issue comments): one client, told apart only by its dialect.
 */
export class GitHubStyleApi implements GitProviderApi {
  constructor(
    private readonly target: ApiTarget,
    private readonly dialect: GitHubStyleDialect,
  ) {}

  private request<T>(method: 'POST' | 'PATCH', path: string, body: unknown, notFoundOk = false) {
    return providerRequest<T>(this.dialect.provider, this.target, method, path, {
      auth: this.dialect.headers(this.target.token),
      body,
      notFoundOk,
    });
  }

  async setCommitStatus(repo: string, sha: string, s: CommitStatus): Promise<void> {
    await this.request('POST', `/repos/${repoPath(repo)}/statuses/${segment(sha)}`, {
      state: STATE[s.state],
      ...(s.targetUrl ? { target_url: s.targetUrl } : {}),
      description: s.description.slice(0, this.dialect.descriptionLimit),
      context: s.context,
    });
  }

  async createComment(repo: string, pullRequest: number, body: string): Promise<string> {
    const res = await this.request<{ id: number }>(
      'POST',
      `/repos/${repoPath(repo)}/issues/${segment(pullRequest)}/comments`,
      { body },
    );
    return String(res!.id);
  }

  async updateComment(repo: string, _pr: number, commentId: string, body: string): Promise<boolean> {
    const res = await this.request<{ id: number }>(
      'PATCH',
      `/repos/${repoPath(repo)}/issues/comments/${segment(commentId)}`,
      { body },
      true,
    );
    return res !== undefined;
  }
}

import type { CommitState, CommitStatus, GitProviderApi } from './provider-api.js';
import { providerRequest, repoPath, segment, type ApiTarget } from './provider-http.js';

/** Gitea's and Forgejo's commit status states. */
const STATE: Record<CommitState, string> = {
  pending: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  cancelled: 'error',
  skipped: 'success',
};

/** Gitea's and Forgejo's REST API (`/api/v1`): commit statuses and issue comments. */
export class GiteaApi implements GitProviderApi {
  constructor(private readonly target: ApiTarget) {}

  private request<T>(method: 'POST' | 'PATCH', path: string, body: unknown, notFoundOk = false) {
    return providerRequest<T>('gitea', this.target, method, path, {
      auth: { authorization: `token ${this.target.token}` },
      body,
      notFoundOk,
    });
  }

  async setCommitStatus(repo: string, sha: string, s: CommitStatus): Promise<void> {
    await this.request('POST', `/repos/${repoPath(repo)}/statuses/${segment(sha)}`, {
      state: STATE[s.state],
      ...(s.targetUrl ? { target_url: s.targetUrl } : {}),
      description: s.description,
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

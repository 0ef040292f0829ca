import type { CommitState, CommitStatus, GitProviderApi } from './provider-api.js';
import { providerRequest, repoPath, segment, type ApiTarget } from './provider-http.js';

/** GitHub's commit status states: there is no "running", and a cancel is an "error". */
const STATE: Record<CommitState, string> = {
  pending: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  cancelled: 'error',
  skipped: 'success',
};

/** GitHub's REST API (docs.github.com/rest): commit statuses and issue comments. */
export class GitHubApi implements GitProviderApi {
  constructor(private readonly target: ApiTarget) {}

  private request<T>(method: 'POST' | 'PATCH', path: string, body: unknown, notFoundOk = false) {
    return providerRequest<T>('github', this.target, method, path, {
      auth: {
        authorization: `Bearer ${this.target.token}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
      },
      body,
      notFoundOk,
    });
  }

  async setCommitStatus(repo: string, sha: string, s: CommitStatus): Promise<void> {
    await this.request('POST', `/repos/${repoPath(repo)}/statuses/${segment(sha)}`, {
      state: STATE[s.state],
      ...(s.targetUrl ? { target_url: s.targetUrl } : {}),
      description: s.description.slice(0, 140),
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

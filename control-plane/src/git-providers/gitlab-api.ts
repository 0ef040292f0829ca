import type { CommitState, CommitStatus, GitProviderApi } from './provider-api.js';
import { providerRequest, segment, type ApiTarget } from './provider-http.js';

/** GitLab's commit status states: it has "running", and spells "failed" and "canceled". */
const STATE: Record<CommitState, string> = {
  pending: 'pending',
  running: 'running',
  success: 'success',
  failure: 'failed',
  cancelled: 'canceled',
  skipped: 'skipped',
};

/**
 * GitLab's REST API (`/api/v4`): commit statuses and merge request notes. `repo` is the numeric
 * project id (or the URL-encoded path), which the payloads carry.
 */
export class GitLabApi implements GitProviderApi {
  constructor(private readonly target: ApiTarget) {}

  private request<T>(method: 'POST' | 'PUT', path: string, body: unknown, notFoundOk = false) {
    return providerRequest<T>('gitlab', this.target, method, path, {
      auth: { 'private-token': this.target.token },
      body,
      notFoundOk,
    });
  }

  async setCommitStatus(repo: string, sha: string, s: CommitStatus): Promise<void> {
    await this.request('POST', `/projects/${segment(repo)}/statuses/${segment(sha)}`, {
      state: STATE[s.state],
      ...(s.targetUrl ? { target_url: s.targetUrl } : {}),
      description: s.description.slice(0, 255),
      name: s.context,
    });
  }

  async createComment(repo: string, pullRequest: number, body: string): Promise<string> {
    const res = await this.request<{ id: number }>(
      'POST',
      `/projects/${segment(repo)}/merge_requests/${segment(pullRequest)}/notes`,
      { body },
    );
    return String(res!.id);
  }

  async updateComment(repo: string, pullRequest: number, commentId: string, body: string): Promise<boolean> {
    const res = await this.request<{ id: number }>(
      'PUT',
      `/projects/${segment(repo)}/merge_requests/${segment(pullRequest)}/notes/${segment(commentId)}`,
      { body },
      true,
    );
    return res !== undefined;
  }
}

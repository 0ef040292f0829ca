import type { GitApiProvider } from '@deploysphere/contracts';
import { GiteaApi } from './gitea-api.js';
import { GitHubApi } from './github-api.js';
import { GitLabApi } from './gitlab-api.js';
import type { ApiTarget } from './provider-http.js';

/** A deployment's state as every provider's commit status API can say it. */
/** skipped: nothing was built on purpose (GitLab's `skipped`; GitHub and Gitea have none: `success`). */
export type CommitState = 'pending' | 'running' | 'success' | 'failure' | 'cancelled' | 'skipped';

export interface CommitStatus {
  state: CommitState;
  /** The deployment's URL: where the provider's status links to. */
  targetUrl: string | null;
  description: string;
  /** The status's name on the commit, so each project's status is its own. */
  context: string;
}

/**
 * One interface over GitHub's, GitLab's and Gitea's REST APIs: the platform reports a
 * deployment as a commit status and keeps one comment per pull request, edited in place.
 * `repo` is the provider's name for the repository: `owner/name` (GitHub, Gitea) or GitLab's
 * numeric project id.
 */
export interface GitProviderApi {
  setCommitStatus(repo: string, sha: string, status: CommitStatus): Promise<void>;
  /** Posts a comment on the pull request; answers its id. */
  createComment(repo: string, pullRequest: number, body: string): Promise<string>;
  /** Edits the platform's earlier comment; false when it is gone (deleted by someone). */
  updateComment(repo: string, pullRequest: number, commentId: string, body: string): Promise<boolean>;
}

/** Each provider's public API, used when a hook names none. Gitea is always self-hosted. */
export const DEFAULT_API_URL: Record<GitApiProvider, string | null> = {
  github: 'https://api.github.com',
  gitlab: 'https://gitlab.com/api/v4',
  gitea: null,
};

export function providerApi(provider: GitApiProvider, target: ApiTarget): GitProviderApi {
  switch (provider) {
    case 'github':
      return new GitHubApi(target);
    case 'gitlab':
      return new GitLabApi(target);
    case 'gitea':
      return new GiteaApi(target);
  }
}

import { GitHubStyleApi } from './github-style-api.js';
import type { ApiTarget } from './provider-http.js';

/** GitHub's REST API (docs.github.com/rest): commit statuses and issue comments. */
export class GitHubApi extends GitHubStyleApi {
  constructor(target: ApiTarget) {
    super(target, {
      provider: 'github',
      headers: (token) => ({
        authorization: `Bearer ${token}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
      }),
      descriptionLimit: 140,
    });
  }
}

import { GitHubStyleApi } from './github-style-api.js';
import type { ApiTarget } from './provider-http.js';

/** Gitea's and Forgejo's REST API (`/api/v1`): GitHub's shape, with Gitea's token header. */
export class GiteaApi extends GitHubStyleApi {
  constructor(target: ApiTarget) {
    super(target, { provider: 'gitea', headers: (token) => ({ authorization: `token ${token}` }) });
  }
}

import { createHmac, randomUUID } from 'node:crypto';

// Deliveries as GitHub, GitLab and Gitea send them: their payload shapes (trimmed to the fields
// a push carries in every version we know, plus a few others for realism) and their signing,
// written here from the providers' documentation rather than from the code under test.

export type Provider = 'github' | 'gitlab' | 'gitea' | 'generic';

export interface PushInfo {
  repoUrl: string;
  branch: string;
  after: string;
  before?: string;
  defaultBranch?: string;
  message?: string;
  author?: { name: string; email: string };
}

const ZERO = '0'.repeat(40);
const author = (p: PushInfo) => p.author ?? { name: 'Ada Lovelace', email: 'ada@example.com' };

export function githubPush(p: PushInfo): Record<string, unknown> {
  const head = {
    id: p.after,
    tree_id: 'f'.repeat(40),
    distinct: true,
    message: p.message ?? 'Update the page',
    timestamp: '2026-12-02T21:00:00+00:00',
    url: `https://github.example/acme/site/commit/${p.after}`,
    author: { ...author(p), username: 'ada' },
    committer: { ...author(p), username: 'ada' },
    added: [],
    removed: [],
    modified: ['index.html'],
  };
  return {
    ref: `refs/heads/${p.branch}`,
    before: p.before ?? ZERO,
    after: p.after,
    repository: {
      id: 1296269,
      name: 'site',
      full_name: 'acme/site',
      private: false,
      html_url: 'https://github.example/acme/site',
      clone_url: p.repoUrl,
      ssh_url: 'git@github.example:acme/site.git',
      default_branch: p.defaultBranch ?? 'main',
      master_branch: p.defaultBranch ?? 'main',
    },
    pusher: { name: 'ada', email: author(p).email },
    sender: { login: 'ada', id: 1 },
    created: false,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: 'https://github.example/acme/site/compare/a...b',
    commits: [head],
    head_commit: head,
  };
}

export function gitlabPush(p: PushInfo): Record<string, unknown> {
  return {
    object_kind: 'push',
    event_name: 'push',
    before: p.before ?? ZERO,
    after: p.after,
    ref: `refs/heads/${p.branch}`,
    ref_protected: true,
    checkout_sha: p.after,
    user_id: 4,
    user_name: 'Ada Lovelace',
    user_username: 'ada',
    project_id: 15,
    project: {
      id: 15,
      name: 'Site',
      web_url: 'https://gitlab.example/acme/site',
      git_ssh_url: 'git@gitlab.example:acme/site.git',
      git_http_url: p.repoUrl,
      namespace: 'Acme',
      path_with_namespace: 'acme/site',
      default_branch: p.defaultBranch ?? 'main',
    },
    commits: [
      {
        id: p.after,
        message: p.message ?? 'Update the page',
        title: (p.message ?? 'Update the page').split('\n')[0],
        timestamp: '2026-12-02T21:00:00+00:00',
        url: `https://gitlab.example/acme/site/-/commit/${p.after}`,
        author: author(p),
        added: [],
        modified: ['index.html'],
        removed: [],
      },
    ],
    total_commits_count: 1,
    repository: {
      name: 'Site',
      url: 'git@gitlab.example:acme/site.git',
      homepage: 'https://gitlab.example/acme/site',
      git_http_url: p.repoUrl,
      git_ssh_url: 'git@gitlab.example:acme/site.git',
    },
  };
}

export function giteaPush(p: PushInfo): Record<string, unknown> {
  const commit = {
    id: p.after,
    message: `${p.message ?? 'Update the page'}\n`,
    url: `https://gitea.example/acme/site/commit/${p.after}`,
    author: { ...author(p), username: 'ada' },
    committer: { ...author(p), username: 'ada' },
    verification: null,
    timestamp: '2026-12-02T21:00:00Z',
    added: [],
    removed: [],
    modified: ['index.html'],
  };
  return {
    ref: `refs/heads/${p.branch}`,
    before: p.before ?? ZERO,
    after: p.after,
    compare_url: 'https://gitea.example/acme/site/compare/a...b',
    commits: [commit],
    total_commits: 1,
    head_commit: commit,
    repository: {
      id: 1,
      owner: { id: 1, login: 'acme', username: 'acme' },
      name: 'site',
      full_name: 'acme/site',
      private: false,
      html_url: 'https://gitea.example/acme/site',
      ssh_url: 'git@gitea.example:acme/site.git',
      clone_url: p.repoUrl,
      default_branch: p.defaultBranch ?? 'main',
    },
    pusher: { id: 1, login: 'ada', username: 'ada' },
    sender: { id: 1, login: 'ada', username: 'ada' },
  };
}

export function genericPush(p: PushInfo): Record<string, unknown> {
  return {
    repository: p.repoUrl,
    branch: p.branch,
    commit: p.after,
    defaultBranch: p.defaultBranch ?? 'main',
    message: p.message ?? 'Update the page',
    author: `${author(p).name} <${author(p).email}>`,
  };
}

export const PUSH_PAYLOAD = {
  github: githubPush,
  gitlab: gitlabPush,
  gitea: giteaPush,
  generic: genericPush,
};

const hmacHex = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

/**
 * The headers each provider sends with a delivery, signed the way it signs: GitHub an HMAC with
 * a `sha256=` prefix, Gitea a bare hex HMAC, GitLab the secret token itself, and the generic form
 * as docs/git-deploys.md describes it.
 */
export function deliveryHeaders(
  provider: Provider,
  secret: string,
  body: string,
  opts: { event?: string; deliveryId?: string } = {},
): Record<string, string> {
  const deliveryId = opts.deliveryId ?? randomUUID();
  const base = { 'content-type': 'application/json' };
  switch (provider) {
    case 'github':
      return {
        ...base,
        'user-agent': 'GitHub-Hookshot/abc1234',
        'x-github-event': opts.event ?? 'push',
        'x-github-delivery': deliveryId,
        'x-github-hook-id': '123456',
        'x-hub-signature': `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`,
        'x-hub-signature-256': `sha256=${hmacHex(secret, body)}`,
      };
    case 'gitlab':
      return {
        ...base,
        'user-agent': 'GitLab/17.6.0',
        'x-gitlab-event': opts.event ?? 'Push Hook',
        'x-gitlab-event-uuid': deliveryId,
        'x-gitlab-webhook-uuid': randomUUID(),
        'x-gitlab-instance': 'https://gitlab.example',
        'x-gitlab-token': secret,
      };
    case 'gitea':
      return {
        ...base,
        'user-agent': 'Go-http-client/1.1',
        'x-gitea-event': opts.event ?? 'push',
        'x-gitea-event-type': opts.event ?? 'push',
        'x-gitea-delivery': deliveryId,
        'x-gitea-signature': hmacHex(secret, body),
        'x-gogs-event': opts.event ?? 'push',
        'x-hub-signature-256': `sha256=${hmacHex(secret, body)}`,
      };
    case 'generic':
      return {
        ...base,
        'x-deploysphere-event': opts.event ?? 'push',
        'x-deploysphere-delivery': deliveryId,
        'x-deploysphere-signature': `sha256=${hmacHex(secret, body)}`,
      };
  }
}

export interface PullRequestInfo {
  repoUrl: string;
  number: number;
  /** The provider's own word: opened/synchronize/closed (GitHub), open/update/close/merge (GitLab). */
  action: string;
  headBranch: string;
  headSha: string;
  baseBranch?: string;
  title?: string;
  /** The head lives in someone else's fork. */
  fork?: boolean;
}

function githubLikeRepo(p: PullRequestInfo, owner: string, host: string, id: number) {
  return {
    id,
    name: 'site',
    full_name: `${owner}/site`,
    owner: { login: owner, id },
    private: false,
    html_url: `https://${host}/${owner}/site`,
    clone_url: owner === 'acme' ? p.repoUrl : `https://${host}/${owner}/site.git`,
    ssh_url: `git@${host}:${owner}/site.git`,
    default_branch: 'main',
  };
}

/** GitHub's pull_request event (opened, synchronize, reopened, closed, …). */
export function githubPullRequest(p: PullRequestInfo, host = 'github.example'): Record<string, unknown> {
  const base = githubLikeRepo(p, 'acme', host, 1296269);
  const head = p.fork ? githubLikeRepo(p, 'mallory', host, 6660666) : base;
  return {
    action: p.action,
    number: p.number,
    pull_request: {
      url: `https://api.${host}/repos/acme/site/pulls/${p.number}`,
      id: 1000 + p.number,
      number: p.number,
      state: p.action === 'closed' ? 'closed' : 'open',
      title: p.title ?? 'Add the login page',
      user: { login: p.fork ? 'mallory' : 'ada', id: 1 },
      body: 'Please review.',
      head: { label: `${head.owner.login}:${p.headBranch}`, ref: p.headBranch, sha: p.headSha, repo: head },
      base: {
        label: `acme:${p.baseBranch ?? 'main'}`,
        ref: p.baseBranch ?? 'main',
        sha: 'e'.repeat(40),
        repo: base,
      },
      merged: false,
    },
    repository: base,
    sender: { login: p.fork ? 'mallory' : 'ada', id: 1 },
  };
}

/** Gitea's pull_request event: GitHub's shape, with `synchronized` for a push to the head. */
export function giteaPullRequest(p: PullRequestInfo): Record<string, unknown> {
  return githubPullRequest(p, 'gitea.example');
}

/** GitLab's Merge Request Hook. */
export function gitlabMergeRequest(p: PullRequestInfo): Record<string, unknown> {
  const target = { id: 15, git_http_url: p.repoUrl, git_ssh_url: 'git@gitlab.example:acme/site.git' };
  const source = p.fork
    ? {
        id: 66,
        git_http_url: 'https://gitlab.example/mallory/site.git',
        git_ssh_url: 'git@gitlab.example:mallory/site.git',
      }
    : target;
  return {
    object_kind: 'merge_request',
    event_type: 'merge_request',
    user: { id: 1, name: 'Ada Lovelace', username: 'ada' },
    project: {
      id: 15,
      name: 'Site',
      web_url: 'https://gitlab.example/acme/site',
      git_ssh_url: target.git_ssh_url,
      git_http_url: p.repoUrl,
      path_with_namespace: 'acme/site',
      default_branch: 'main',
    },
    object_attributes: {
      id: 99,
      iid: p.number,
      title: p.title ?? 'Add the login page',
      state: p.action === 'close' ? 'closed' : p.action === 'merge' ? 'merged' : 'opened',
      action: p.action,
      source_branch: p.headBranch,
      target_branch: p.baseBranch ?? 'main',
      source_project_id: source.id,
      target_project_id: target.id,
      source,
      target,
      last_commit: {
        id: p.headSha,
        message: 'Add the login page',
        title: 'Add the login page',
        author: { name: 'Ada Lovelace', email: 'ada@example.com' },
      },
    },
  };
}

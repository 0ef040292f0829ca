import { fromZodError, type GitProvider } from '@deploysphere/contracts';
import { z } from 'zod';
import { authorOf, COMMIT_SHA, MESSAGE_MAX, optionalString, person, REF_MAX, urls } from './payloads.js';

/** What a pull (merge) request event asks of the platform. */
export type PullRequestAction = 'deploy' | 'close' | 'other';

/** A pull request event, whatever provider sent it. */
export interface PullRequestEvent {
  number: number;
  /** The provider's own word for the action (opened, synchronize, update, merge, …). */
  rawAction: string;
  action: PullRequestAction;
  /** The head commit: what a preview of the pull request builds. */
  headSha: string;
  /** The head branch, in the repository it lives in (a fork's, for a fork pull request). */
  headBranch: string;
  /**
   * The head lives in another repository than the base. Its commits are anyone's: nothing of
   * the project (builds with its env, aliases of its branches) may be touched for it.
   */
  fromFork: boolean;
  /** The head's repository, for the recorded reason (owner/name, or GitLab's project id). */
  headRepo: string;
  /** The base repository's URLs; one must be the project's. */
  repoUrls: string[];
  /** The provider API's name for the base repository. */
  apiRepo: string | null;
  /** The base repository's default branch, when the payload names it. */
  defaultBranch: string | null;
  title: string | null;
  author: string | null;
}

const PULL_REQUEST_EVENT: Partial<Record<GitProvider, string>> = {
  github: 'pull_request',
  gitea: 'pull_request',
  gitlab: 'Merge Request Hook',
};

export function isPullRequest(provider: GitProvider, event: string): boolean {
  return PULL_REQUEST_EVENT[provider] === event;
}

/** GitHub says `synchronize`, Gitea `synchronized`; GitLab `open`, `update`, `reopen`. */
const DEPLOY_ACTIONS = new Set([
  'opened',
  'synchronize',
  'synchronized',
  'reopened',
  'open',
  'update',
  'reopen',
]);
/** GitLab reports a merge as its own action; it closes the merge request too. */
const CLOSE_ACTIONS = new Set(['closed', 'close', 'merge']);

const actionOf = (raw: string): PullRequestAction =>
  DEPLOY_ACTIONS.has(raw) ? 'deploy' : CLOSE_ACTIONS.has(raw) ? 'close' : 'other';

const ref = z.string().min(1).max(REF_MAX, `must be at most ${REF_MAX} characters`);
const repo = z.looseObject({
  id: z.number().nullish(),
  full_name: optionalString,
  clone_url: optionalString,
  ssh_url: optionalString,
  html_url: optionalString,
  default_branch: optionalString,
});

/** GitHub's pull_request payload; Gitea's and Forgejo's copy its shape. */
const GitHubLikePullRequestSchema = z.looseObject({
  action: z.string().max(100),
  number: z.number().int().positive(),
  pull_request: z.looseObject({
    title: optionalString,
    user: z.looseObject({ login: optionalString }).nullish(),
    head: z.looseObject({
      ref,
      sha: z.string().regex(COMMIT_SHA, 'expected a full commit SHA'),
      // null when the fork was deleted
      repo: repo.nullish(),
    }),
    base: z.looseObject({ ref, repo }),
  }),
  repository: repo,
});

/** GitLab's Merge Request Hook payload. */
const GitLabMergeRequestSchema = z.looseObject({
  object_kind: z.literal('merge_request', { error: 'expected "merge_request"' }),
  user: z.looseObject({ name: optionalString, username: optionalString }).nullish(),
  project: z.looseObject({
    id: z.number().int(),
    git_http_url: optionalString,
    git_ssh_url: optionalString,
    web_url: optionalString,
    default_branch: optionalString,
  }),
  object_attributes: z.looseObject({
    iid: z.number().int().positive(),
    action: z.string().max(100).nullish(),
    title: optionalString,
    source_branch: ref,
    source_project_id: z.number().int(),
    target_project_id: z.number().int(),
    last_commit: z.looseObject({
      id: z.string().regex(COMMIT_SHA, 'expected a full commit SHA'),
      author: person,
    }),
  }),
});

const sameRepo = (a: z.infer<typeof repo>, b: z.infer<typeof repo>): boolean => {
  if (a.id != null && b.id != null && a.id !== b.id) return false;
  return (a.full_name ?? '').toLowerCase() === (b.full_name ?? '').toLowerCase();
};

/** Reads a pull request event; a payload that does not fit is a 400 naming the field. */
export function parsePullRequest(provider: GitProvider, json: unknown): PullRequestEvent {
  const parse = <T extends z.ZodType>(schema: T): z.infer<T> => {
    const result = schema.safeParse(json);
    if (!result.success) throw fromZodError(result.error, 400, 'body');
    return result.data;
  };
  if (provider === 'gitlab') {
    const p = parse(GitLabMergeRequestSchema);
    const a = p.object_attributes;
    const rawAction = a.action ?? '(none)';
    return {
      number: a.iid,
      rawAction,
      action: actionOf(rawAction),
      headSha: a.last_commit.id,
      headBranch: a.source_branch,
      fromFork: a.source_project_id !== a.target_project_id,
      headRepo: `project ${a.source_project_id}`,
      repoUrls: urls(p.project.git_http_url, p.project.git_ssh_url, p.project.web_url),
      apiRepo: String(p.project.id),
      defaultBranch: p.project.default_branch ?? null,
      title: a.title?.slice(0, MESSAGE_MAX) ?? null,
      author: authorOf(a.last_commit.author),
    };
  }
  const p = parse(GitHubLikePullRequestSchema);
  const { head, base } = p.pull_request;
  const base_ = base.repo;
  return {
    number: p.number,
    rawAction: p.action,
    action: actionOf(p.action),
    headSha: head.sha,
    headBranch: head.ref,
    // A deleted fork's head repository is null: still a fork.
    fromFork: !head.repo || !sameRepo(head.repo, base_),
    headRepo: (head.repo?.full_name ?? '(deleted repository)').slice(0, 200),
    repoUrls: urls(
      p.repository.clone_url,
      p.repository.ssh_url,
      p.repository.html_url,
      base_.clone_url,
      base_.ssh_url,
    ),
    apiRepo: p.repository.full_name ?? base_.full_name ?? null,
    defaultBranch: p.repository.default_branch ?? null,
    title: p.pull_request.title?.slice(0, MESSAGE_MAX) ?? null,
    author: p.pull_request.user?.login ? p.pull_request.user.login.slice(0, 512) : null,
  };
}

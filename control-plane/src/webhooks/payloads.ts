import {
  AppError,
  fromZodError,
  GENERIC_HEADERS,
  GenericPushPayloadSchema,
  type GitProvider,
} from '@deploysphere/contracts';
import { z } from 'zod';
import { header, type HeaderBag } from './signatures.js';

/** A push, whatever provider sent it. */
export interface Push {
  /** The full ref, e.g. refs/heads/main. */
  ref: string;
  /** The branch name, or null when the ref is not a branch (a tag). */
  branch: string | null;
  /** The pushed head commit. */
  after: string;
  /** The branch was deleted: `after` is all zeros. */
  deleted: boolean;
  /** Every URL the payload gives for the repository; one must be the project's. */
  repoUrls: string[];
  defaultBranch: string | null;
  message: string | null;
  author: string | null;
  /** The provider API's name for the repository (GitHub/Gitea `owner/name`, GitLab's project id). */
  apiRepo: string | null;
  /**
   * Every file the push's commits added, changed or removed, for watch paths; null when the
   * payload cannot tell for sure (no file lists, a list that may be cut short, a new branch or a
   * force push, whose commits are not the whole change).
   */
  changedFiles: string[] | null;
}

/** Where each provider puts its delivery id and event name. */
const DELIVERY_HEADER: Record<GitProvider, string> = {
  github: 'x-github-delivery',
  gitlab: 'x-gitlab-event-uuid',
  gitea: 'x-gitea-delivery',
  generic: GENERIC_HEADERS.delivery,
};
const EVENT_HEADER: Record<GitProvider, string> = {
  github: 'x-github-event',
  gitlab: 'x-gitlab-event',
  gitea: 'x-gitea-event',
  generic: GENERIC_HEADERS.event,
};
/** The event name of a push, per provider; the generic form's is optional. */
const PUSH_EVENT: Record<GitProvider, string> = {
  github: 'push',
  gitlab: 'Push Hook',
  gitea: 'push',
  generic: 'push',
};

export function deliveryHeader(provider: GitProvider): string {
  return DELIVERY_HEADER[provider];
}

/**
 * The provider's delivery id: 1–200 printable ASCII characters. Anything else is refused as
 * missing, since it would only be stored and shown.
 */
export function deliveryIdOf(provider: GitProvider, headers: HeaderBag): string | undefined {
  const id = header(headers, DELIVERY_HEADER[provider])?.trim();
  return id && /^[\x21-\x7e]{1,200}$/.test(id) ? id : undefined;
}

export function eventOf(provider: GitProvider, headers: HeaderBag): string {
  const event = header(headers, EVENT_HEADER[provider])?.trim().slice(0, 100);
  if (!event && provider === 'generic') return PUSH_EVENT.generic;
  return event || '(none)';
}

export function isPush(provider: GitProvider, event: string): boolean {
  return event === PUSH_EVENT[provider];
}

export const ZERO_SHA = /^0+$/;
export const COMMIT_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
export const MESSAGE_MAX = 4096;
/** `refs/heads/` and git's own 255-character limit on a ref name. */
export const REF_MAX = 266;

export const optionalString = z.string().nullish();
export const person = z.looseObject({ name: optionalString, email: optionalString }).nullish();
const files = z.array(z.string().max(4096)).nullish();
const commit = z.looseObject({
  id: z.string(),
  message: optionalString,
  author: person,
  added: files,
  modified: files,
  removed: files,
});
/** GitHub lists at most 20 commits in a push; GitLab says how many there were. */
const LISTED_COMMITS_MAX = 20;

function changedFilesOf(
  commits: z.infer<typeof commit>[] | null | undefined,
  opts: { total?: number | null; before?: string | null; forced?: boolean | null; created?: boolean | null },
): string[] | null {
  if (!commits || commits.length === 0 || opts.forced || opts.created) return null;
  if (opts.before && ZERO_SHA.test(opts.before)) return null;
  if (opts.total != null ? opts.total > commits.length : commits.length >= LISTED_COMMITS_MAX) return null;
  const all = new Set<string>();
  for (const c of commits) {
    if (!c.added && !c.modified && !c.removed) return null;
    for (const f of [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])]) all.add(f);
  }
  return [...all];
}

/** GitHub's push payload, and Gitea's and Forgejo's, which copy its shape. */
const GitHubLikePushSchema = z.looseObject({
  ref: z.string().max(REF_MAX, `must be at most ${REF_MAX} characters`),
  after: z.string().regex(COMMIT_SHA, 'expected a full commit SHA'),
  before: optionalString,
  deleted: z.boolean().optional(),
  forced: z.boolean().nullish(),
  created: z.boolean().nullish(),
  total_commits: z.number().int().nullish(),
  repository: z.looseObject({
    clone_url: optionalString,
    ssh_url: optionalString,
    git_url: optionalString,
    html_url: optionalString,
    default_branch: optionalString,
    full_name: optionalString,
  }),
  head_commit: commit.nullish(),
  commits: z.array(commit).nullish(),
});

/** GitLab's Push Hook payload. */
const GitLabPushSchema = z.looseObject({
  object_kind: z.literal('push', { error: 'expected "push"' }),
  project_id: z.number().int().nullish(),
  before: optionalString,
  total_commits_count: z.number().int().nullish(),
  ref: z.string().max(REF_MAX, `must be at most ${REF_MAX} characters`),
  after: z.string().regex(COMMIT_SHA, 'expected a full commit SHA'),
  project: z.looseObject({
    git_http_url: optionalString,
    git_ssh_url: optionalString,
    web_url: optionalString,
    default_branch: optionalString,
    id: z.number().int().nullish(),
  }),
  commits: z.array(commit).nullish(),
});

export const authorOf = (a: z.infer<typeof person>): string | null => {
  if (!a?.name && !a?.email) return null;
  return [a.name, a.email ? `<${a.email}>` : undefined].filter(Boolean).join(' ').slice(0, 512);
};

const branchOf = (ref: string): string | null =>
  ref.startsWith('refs/heads/') && ref.length > 'refs/heads/'.length ? ref.slice('refs/heads/'.length) : null;

export const urls = (...list: (string | null | undefined)[]) => list.filter((u): u is string => !!u);

/**
 * Reads a push payload into a Push. A payload that does not fit the provider's shape is a 400
 * naming the field by its dotted path (`repository.clone_url`, `after`).
 */
export function parsePush(provider: GitProvider, json: unknown): Push {
  const parse = <T extends z.ZodType>(schema: T): z.infer<T> => {
    const result = schema.safeParse(json);
    if (!result.success) throw fromZodError(result.error, 400, 'body');
    return result.data;
  };
  switch (provider) {
    case 'github':
    case 'gitea': {
      const p = parse(GitHubLikePushSchema);
      const head = p.head_commit ?? p.commits?.find((c) => c.id === p.after) ?? null;
      return {
        ref: p.ref,
        branch: branchOf(p.ref),
        after: p.after,
        deleted: p.deleted === true || ZERO_SHA.test(p.after),
        repoUrls: urls(
          p.repository.clone_url,
          p.repository.ssh_url,
          p.repository.git_url,
          p.repository.html_url,
        ),
        defaultBranch: p.repository.default_branch ?? null,
        message: head?.message?.slice(0, MESSAGE_MAX) ?? null,
        author: authorOf(head?.author),
        apiRepo: p.repository.full_name ?? null,
        changedFiles: changedFilesOf(p.commits, {
          total: p.total_commits,
          before: p.before,
          forced: p.forced,
          created: p.created,
        }),
      };
    }
    case 'gitlab': {
      const p = parse(GitLabPushSchema);
      const head = p.commits?.find((c) => c.id === p.after) ?? null;
      return {
        ref: p.ref,
        branch: branchOf(p.ref),
        after: p.after,
        deleted: ZERO_SHA.test(p.after),
        repoUrls: urls(p.project.git_http_url, p.project.git_ssh_url, p.project.web_url),
        defaultBranch: p.project.default_branch ?? null,
        message: head?.message?.slice(0, MESSAGE_MAX) ?? null,
        author: authorOf(head?.author),
        apiRepo: String(p.project.id ?? p.project_id ?? '') || null,
        changedFiles: changedFilesOf(p.commits, { total: p.total_commits_count, before: p.before }),
      };
    }
    case 'generic': {
      const p = parse(GenericPushPayloadSchema);
      const branch = p.branch.startsWith('refs/heads/') ? p.branch.slice('refs/heads/'.length) : p.branch;
      return {
        ref: `refs/heads/${branch}`,
        branch,
        after: p.commit,
        deleted: false,
        repoUrls: [p.repository],
        defaultBranch: p.defaultBranch ?? null,
        message: p.message?.slice(0, MESSAGE_MAX) ?? null,
        author: p.author ?? null,
        apiRepo: null,
        changedFiles: null,
      };
    }
  }
}

/**
 * The body as JSON: GitHub may send `application/x-www-form-urlencoded` with the JSON in
 * `payload`; everyone else sends JSON. The signature was checked over the raw bytes before this.
 */
export function parseBody(body: Buffer, contentType: string | undefined): unknown {
  let text = body.toString('utf8');
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw AppError.badRequest('body.payload: is required', 'body.payload');
    text = payload;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw AppError.badRequest('The body is not valid JSON', 'body');
  }
}

/**
 * A clone URL in a form two spellings of one repository share: scp-style `git@host:path` as
 * `ssh://host/path`, scheme and host lowercased, http as https, no user, no trailing slash or
 * `.git`. The path keeps its case: some servers treat it as significant.
 */
export function normalizeRepoUrl(url: string): string | undefined {
  const trimmed = url.trim();
  const scp = /^[^@/\s]+@([^:/\s]+):(?!\/\/)(.+)$/.exec(trimmed);
  const candidate = scp ? `ssh://${scp[1]}/${scp[2]!.replace(/^\/+/, '')}` : trimmed;
  let parsed: URL;
  try {
    parsed = new URL(candidate);
  } catch {
    return undefined;
  }
  const scheme = parsed.protocol === 'http:' ? 'https:' : parsed.protocol;
  const path = parsed.pathname
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .replace(/\/+$/, '');
  return `${scheme}//${parsed.host.toLowerCase()}${path}`;
}

/** Whether any of the payload's URLs names the project's repository. */
export function sameRepository(projectRepoUrl: string, candidates: string[]): boolean {
  const own = normalizeRepoUrl(projectRepoUrl);
  return own !== undefined && candidates.some((c) => normalizeRepoUrl(c) === own);
}

/** A project's gitRef as a branch name, for comparing with a pushed branch. */
export function productionBranchOf(gitRef: string | null, defaultBranch: string | null): string | null {
  if (gitRef === null) return defaultBranch;
  return gitRef.startsWith('refs/heads/') ? gitRef.slice('refs/heads/'.length) : gitRef;
}

import { describe, expect, it } from 'vitest';
import {
  giteaPullRequest,
  githubPullRequest,
  gitlabMergeRequest,
  PUSH_PAYLOAD,
} from '../../test/git-hooks.js';
import { parsePush } from './payloads.js';
import { isPullRequest, parsePullRequest } from './pull-requests.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const base = {
  repoUrl: 'https://git.example/acme/site.git',
  number: 5,
  headBranch: 'feature/x',
  headSha: SHA,
};

describe('parsePullRequest', () => {
  it('reads each provider’s actions as deploy, close or other', () => {
    const action = (p: Parameters<typeof githubPullRequest>[0], provider: 'github' | 'gitea' | 'gitlab') =>
      parsePullRequest(
        provider,
        provider === 'gitlab'
          ? gitlabMergeRequest(p)
          : provider === 'gitea'
            ? giteaPullRequest(p)
            : githubPullRequest(p),
      ).action;
    expect(action({ ...base, action: 'opened' }, 'github')).toBe('deploy');
    expect(action({ ...base, action: 'synchronize' }, 'github')).toBe('deploy');
    expect(action({ ...base, action: 'synchronized' }, 'gitea')).toBe('deploy');
    expect(action({ ...base, action: 'update' }, 'gitlab')).toBe('deploy');
    expect(action({ ...base, action: 'closed' }, 'github')).toBe('close');
    expect(action({ ...base, action: 'merge' }, 'gitlab')).toBe('close');
    expect(action({ ...base, action: 'labeled' }, 'github')).toBe('other');
    expect(action({ ...base, action: 'approved' }, 'gitlab')).toBe('other');
  });

  it('reads the head, the base repository and its API name', () => {
    const pr = parsePullRequest('github', githubPullRequest({ ...base, action: 'opened' }));
    expect(pr).toMatchObject({
      number: 5,
      headSha: SHA,
      headBranch: 'feature/x',
      fromFork: false,
      apiRepo: 'acme/site',
      defaultBranch: 'main',
    });
    expect(pr.repoUrls).toContain(base.repoUrl);
    expect(parsePullRequest('gitlab', gitlabMergeRequest({ ...base, action: 'open' })).apiRepo).toBe('15');
  });

  it('tells a fork’s pull request, including one whose fork was deleted', () => {
    expect(
      parsePullRequest('github', githubPullRequest({ ...base, action: 'opened', fork: true })).fromFork,
    ).toBe(true);
    expect(
      parsePullRequest('gitlab', gitlabMergeRequest({ ...base, action: 'open', fork: true })).fromFork,
    ).toBe(true);
    const deleted = githubPullRequest({ ...base, action: 'opened' }) as {
      pull_request: { head: { repo: unknown } };
    };
    deleted.pull_request.head.repo = null;
    expect(parsePullRequest('github', deleted).fromFork).toBe(true);
    // Same name, different repository id: a fork that took the base's name elsewhere.
    const renamed = githubPullRequest({ ...base, action: 'opened', fork: true }) as {
      pull_request: { head: { repo: { full_name: string } } };
    };
    renamed.pull_request.head.repo.full_name = 'acme/site';
    expect(parsePullRequest('github', renamed).fromFork).toBe(true);
  });

  it('refuses a payload that does not fit, naming the field', () => {
    const bad = githubPullRequest({ ...base, action: 'opened' }) as {
      pull_request: { head: { sha: string } };
    };
    bad.pull_request.head.sha = 'main';
    expect(() => parsePullRequest('github', bad)).toThrow(/pull_request\.head\.sha/);
  });

  it('knows each provider’s event name', () => {
    expect(isPullRequest('github', 'pull_request')).toBe(true);
    expect(isPullRequest('gitlab', 'Merge Request Hook')).toBe(true);
    expect(isPullRequest('generic', 'pull_request')).toBe(false);
  });
});

describe('changed files of a push', () => {
  const sha = SHA;
  it('are the union of the commits’ lists, and unknown for a new branch or a force push', () => {
    const known = PUSH_PAYLOAD.github({ ...base, branch: 'main', after: sha, before: 'e'.repeat(40) });
    expect(parsePush('github', known).changedFiles).toEqual(['index.html']);
    const created = PUSH_PAYLOAD.github({ ...base, branch: 'main', after: sha });
    expect(parsePush('github', created).changedFiles).toBeNull();
    expect(parsePush('github', { ...known, forced: true }).changedFiles).toBeNull();
    const many = {
      ...known,
      commits: Array.from({ length: 20 }, () => (known as { head_commit: unknown }).head_commit),
    };
    expect(parsePush('github', many).changedFiles).toBeNull();
    const gitlab = PUSH_PAYLOAD.gitlab({ ...base, branch: 'main', after: sha, before: 'e'.repeat(40) });
    expect(parsePush('gitlab', gitlab).changedFiles).toEqual(['index.html']);
    expect(parsePush('gitlab', { ...gitlab, total_commits_count: 25 }).changedFiles).toBeNull();
    expect(
      parsePush('generic', PUSH_PAYLOAD.generic({ ...base, branch: 'main', after: sha })).changedFiles,
    ).toBeNull();
  });
});

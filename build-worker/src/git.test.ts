import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, git, tempDir, type TestRepo } from '../test/helpers.js';
import { BuildError } from './build-error.js';
import { cloneRepo, validateGitRef } from './git.js';
import { CollectingLogSink } from './log-sink.js';

describe('validateGitRef', () => {
  it.each(['main', 'feature/x', 'v1.2.3', 'release-2026', 'a'.repeat(100)])('accepts %s', async (ref) => {
    await expect(validateGitRef(ref)).resolves.toBeUndefined();
  });

  it.each([
    '-main',
    '--upload-pack=touch /tmp/pwned',
    '+main',
    'main:other',
    'a..b',
    'a b',
    'a~1',
    'a^',
    'a?',
    'a*',
    'a[',
    'a\\b',
    'ends.lock',
    'ends/',
    '/starts',
    'a//b',
    '.hidden',
    '@',
    'a@{1}',
    '',
    'x\n',
    'a\0b',
  ])('rejects %j', async (ref) => {
    await expect(validateGitRef(ref)).rejects.toBeInstanceOf(BuildError);
  });
});

describe('cloneRepo', () => {
  let repo: TestRepo;
  let first: string;
  let second: string;
  let work: string;

  beforeAll(async () => {
    repo = await createRepo({ 'index.html': 'v1' });
    first = await git(repo.dir, 'rev-parse', 'HEAD');
    await git(repo.dir, 'tag', 'v1');
    await git(repo.dir, 'checkout', '--quiet', '-b', 'feature');
    await repo.commit({ 'index.html': 'feature' });
    await git(repo.dir, 'checkout', '--quiet', 'main');
    second = await repo.commit({ 'index.html': 'v2' });
    work = await tempDir('bw-clone-');
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
    await rm(repo.dir, { recursive: true, force: true });
  });

  const clone = async (gitRef: string | null, name: string) => {
    const dest = join(work, name);
    const logs = new CollectingLogSink();
    const { commitSha } = await cloneRepo({ repoUrl: repo.url, gitRef, dest, logs });
    return { commitSha, content: await readFile(join(dest, 'index.html'), 'utf8'), dest };
  };

  it('clones the default branch when the ref is null, shallowly', async () => {
    const { commitSha, content, dest } = await clone(null, 'default');
    expect(commitSha).toBe(second);
    expect(content).toBe('v2');
    expect(await git(dest, 'rev-list', '--count', 'HEAD')).toBe('1');
  });

  it('clones a branch, a tag and a commit SHA', async () => {
    expect((await clone('feature', 'branch')).content).toBe('feature');
    const tag = await clone('v1', 'tag');
    expect(tag.content).toBe('v1');
    expect(tag.commitSha).toBe(first);
    expect((await clone(first, 'sha')).content).toBe('v1');
  });

  it('fails clearly on a ref that does not exist, and rejects bad refs before running git', async () => {
    await expect(clone('nope', 'missing')).rejects.toMatchObject({ kind: 'clone_failed' });
    await expect(clone('--upload-pack=touch /tmp/x', 'bad')).rejects.toMatchObject({ kind: 'invalid_input' });
  });

  it('rejects a repository URL that looks like an option', async () => {
    const logs = new CollectingLogSink();
    await expect(
      cloneRepo({ repoUrl: '--upload-pack=id', gitRef: null, dest: join(work, 'opt'), logs }),
    ).rejects.toMatchObject({ kind: 'invalid_input' });
  });

  it('masks credentials in URLs in its messages', async () => {
    const logs = new CollectingLogSink();
    const err = await cloneRepo({
      repoUrl: 'http://user:hunter2@127.0.0.1:1/repo.git',
      gitRef: null,
      dest: join(work, 'creds'),
      logs,
    }).catch((e: unknown) => e as BuildError);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).message).not.toContain('hunter2');
    expect(logs.text()).not.toContain('hunter2');
  });
});

describe('sparse checkout of a rootDir', () => {
  it('cone patterns keep the top-level files and each parent of the directory', async () => {
    const { conePatterns } = await import('./git.js');
    expect(conePatterns('apps/web')).toBe('/*\n!/*/\n/apps/\n!/apps/*/\n/apps/web/\n');
  });

  it('checks out only the root directory and the top-level files, and leaves no remote URL behind', async () => {
    const repo = await createRepo({
      'package.json': '{"private":true}',
      'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
      'apps/web/index.html': '<h1>web</h1>',
      'apps/docs/index.html': '<h1>docs</h1>',
      'packages/big/data.txt': 'x'.repeat(10_000),
    });
    // Serve blobs lazily, as a hosted git server does.
    await git(repo.dir, 'config', 'uploadpack.allowFilter', 'true');
    const dest = await tempDir('bw-sparse-');
    const logs = new CollectingLogSink();
    try {
      await cloneRepo({ repoUrl: repo.url, gitRef: null, dest, logs, sparseDir: 'apps/web' });
      expect(await readFile(join(dest, 'apps/web/index.html'), 'utf8')).toBe('<h1>web</h1>');
      expect(await readFile(join(dest, 'pnpm-lock.yaml'), 'utf8')).toContain('9.0');
      await expect(readFile(join(dest, 'apps/docs/index.html'))).rejects.toThrow();
      await expect(readFile(join(dest, 'packages/big/data.txt'))).rejects.toThrow();
      expect(await readFile(join(dest, '.git/config'), 'utf8')).not.toContain(repo.dir);
      expect(logs.text()).toContain('Partial clone with a sparse checkout of apps/web/');
    } finally {
      await rm(dest, { recursive: true, force: true });
    }
  });
});

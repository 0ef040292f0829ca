import { describe, expect, it } from 'vitest';
import {
  branchAliasHost,
  branchAliasLabel,
  branchHash,
  branchSlug,
  DNS_LABEL_MAX,
  GenericPushPayloadSchema,
} from './git-deploys.js';

describe('branchSlug', () => {
  it.each([
    ['main', 'main'],
    ['feature/login', 'feature-login'],
    ['Feature/Login', 'feature-login'],
    ['fix--double__under', 'fix-double-under'],
    ['release/v1.2.3', 'release-v1-2-3'],
    ['-leading/and/trailing-', 'leading-and-trailing'],
    ['émoji-✨-branch', 'moji-branch'],
    ['///', ''],
  ])('%s → %s', (branch, slug) => {
    expect(branchSlug(branch)).toBe(slug);
  });
});

describe('branchAliasLabel', () => {
  it('is <slug>-git-<branch-slug> when it fits', () => {
    expect(branchAliasLabel('shop', 'feature/login')).toBe('shop-git-feature-login');
    expect(branchAliasHost('shop', 'feature/login', 'localhost')).toBe('shop-git-feature-login.localhost');
  });

  it('cuts a long branch to a 63-character label with a hash of the whole name', () => {
    const branch = `feature/${'very-long-name-'.repeat(10)}`;
    const label = branchAliasLabel('my-project', branch);
    expect(label.length).toBeLessThanOrEqual(DNS_LABEL_MAX);
    expect(label).toMatch(/^my-project-git-feature-very-long-name-[a-z0-9-]*[a-z0-9]-[0-9a-f]{6}$/);
    expect(label.endsWith(branchHash(branch))).toBe(true);
    // Two long branches that share the kept prefix still get different labels.
    expect(branchAliasLabel('my-project', `${branch}a`)).not.toBe(label);
  });

  it('fits the longest slug (40 characters) too', () => {
    const slug = 'a'.repeat(40);
    const label = branchAliasLabel(slug, 'feature/a-rather-long-branch-name');
    expect(label.length).toBeLessThanOrEqual(DNS_LABEL_MAX);
    expect(label.startsWith(`${slug}-git-`)).toBe(true);
  });

  it('adds the hash when asked, for a branch whose plain label another branch holds', () => {
    const a = branchAliasLabel('shop', 'feature/login');
    const b = branchAliasLabel('shop', 'feature-login', { hashed: true });
    expect(b).toMatch(/^shop-git-feature-login-[0-9a-f]{6}$/);
    expect(b).not.toBe(a);
    expect(branchAliasLabel('shop', 'Feature/Login', { hashed: true })).not.toBe(b);
  });

  it('names a branch with no usable characters by its hash alone', () => {
    expect(branchAliasLabel('shop', '✨')).toMatch(/^shop-git-[0-9a-f]{6}$/);
  });

  it('is a valid DNS label without "--" (which only deployment hosts have)', () => {
    for (const branch of ['a--b', 'x/-/y', 'UPPER', `${'z'.repeat(80)}/tail`, '1.0']) {
      for (const hashed of [false, true]) {
        const label = branchAliasLabel('site', branch, { hashed });
        expect(label).toMatch(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
        expect(label).not.toContain('--');
      }
    }
  });

  it('is stable: the same branch always gets the same label', () => {
    expect(branchAliasLabel('site', 'feature/x')).toBe(branchAliasLabel('site', 'feature/x'));
    expect(branchHash('feature/x')).toBe(branchHash('feature/x'));
  });
});

describe('GenericPushPayloadSchema', () => {
  it('needs the repository, branch and a full commit SHA', () => {
    const ok = GenericPushPayloadSchema.safeParse({
      repository: 'https://git.example.com/a/b.git',
      branch: 'main',
      commit: 'a'.repeat(40),
    });
    expect(ok.success).toBe(true);
    const bad = GenericPushPayloadSchema.safeParse({
      repository: 'https://git.example.com/a/b.git',
      branch: 'main',
      commit: 'abc123',
    });
    expect(bad.error?.issues[0]?.path).toEqual(['commit']);
  });
});

import { describe, expect, it } from 'vitest';
import { deliveryHeaders, PUSH_PAYLOAD, type Provider } from '../../test/git-hooks.js';
import { normalizeRepoUrl, parseBody, parsePush, productionBranchOf, sameRepository } from './payloads.js';
import { RateLimiter } from './rate-limiter.js';
import { verifySignature } from './signatures.js';

const SECRET = 'a'.repeat(64);
const PROVIDERS: Provider[] = ['github', 'gitlab', 'gitea', 'generic'];
const SHA = '0123456789abcdef0123456789abcdef01234567';
const push = { repoUrl: 'https://git.example/acme/site.git', branch: 'feature/login', after: SHA };

describe('verifySignature', () => {
  for (const provider of PROVIDERS) {
    describe(provider, () => {
      const body = JSON.stringify(PUSH_PAYLOAD[provider](push));
      const headers = deliveryHeaders(provider, SECRET, body);

      it('accepts the body signed as the provider signs it', () => {
        expect(verifySignature(provider, SECRET, headers, Buffer.from(body))).toBe('ok');
      });

      it('refuses another secret', () => {
        expect(verifySignature(provider, 'b'.repeat(64), headers, Buffer.from(body))).toBe('bad');
      });

      it('refuses a missing or empty signature header', () => {
        const name = Object.keys(headers).find((h) =>
          ['x-hub-signature-256', 'x-gitlab-token', 'x-gitea-signature', 'x-deploysphere-signature'].includes(
            h,
          ),
        )!;
        const { [name]: _, ...without } = headers;
        expect(verifySignature(provider, SECRET, without, Buffer.from(body))).toBe('missing');
        expect(verifySignature(provider, SECRET, { ...headers, [name]: '' }, Buffer.from(body))).toBe(
          'missing',
        );
      });

      if (provider !== 'gitlab') {
        it('refuses a tampered body, even one that parses to the same JSON', () => {
          const tampered = body.replace('feature/login', 'main');
          expect(verifySignature(provider, SECRET, headers, Buffer.from(tampered))).toBe('bad');
          const reserialised = JSON.stringify(JSON.parse(body), null, 2);
          expect(verifySignature(provider, SECRET, headers, Buffer.from(reserialised))).toBe('bad');
        });

        it('refuses a malformed signature without throwing', () => {
          for (const value of [
            'sha256=',
            'sha256=zz',
            'sha1=abc',
            'x'.repeat(64),
            `sha256=${'0'.repeat(63)}`,
          ]) {
            const name =
              provider === 'github'
                ? 'x-hub-signature-256'
                : provider === 'gitea'
                  ? 'x-gitea-signature'
                  : 'x-deploysphere-signature';
            expect(verifySignature(provider, SECRET, { ...headers, [name]: value }, Buffer.from(body))).toBe(
              'bad',
            );
          }
        });
      }
    });
  }

  it('GitLab compares the token itself: a token that only shares a prefix fails', () => {
    expect(
      verifySignature('gitlab', SECRET, { 'x-gitlab-token': SECRET.slice(0, 10) }, Buffer.from('{}')),
    ).toBe('bad');
    expect(verifySignature('gitlab', SECRET, { 'x-gitlab-token': `${SECRET}x` }, Buffer.from('{}'))).toBe(
      'bad',
    );
  });

  it('refuses a repeated header (two values cannot both be right)', () => {
    const body = '{}';
    const sig = deliveryHeaders('github', SECRET, body)['x-hub-signature-256']!;
    expect(verifySignature('github', SECRET, { 'x-hub-signature-256': [sig, sig] }, Buffer.from(body))).toBe(
      'missing',
    );
  });
});

describe('parsePush', () => {
  for (const provider of PROVIDERS) {
    it(`reads ${provider}'s push: branch, commit, repository, message, author`, () => {
      const p = parsePush(
        provider,
        PUSH_PAYLOAD[provider]({ ...push, message: 'Add login', defaultBranch: 'main' }),
      );
      expect(p).toMatchObject({
        branch: 'feature/login',
        after: SHA,
        deleted: false,
        defaultBranch: 'main',
        author: 'Ada Lovelace <ada@example.com>',
      });
      expect(p.message?.trim()).toBe('Add login');
      expect(p.repoUrls).toContain(push.repoUrl);
    });
  }

  it('names the field that is wrong', () => {
    const payload = PUSH_PAYLOAD.github(push);
    expect(() => parsePush('github', { ...payload, after: 'abc' })).toThrow(
      /after: expected a full commit SHA/,
    );
    expect(() => parsePush('gitlab', { ...PUSH_PAYLOAD.gitlab(push), project: 'x' })).toThrowError(
      expect.objectContaining({ field: 'project', status: 400 }),
    );
  });

  it('sees a deleted branch and a tag for what they are', () => {
    const deleted = parsePush('gitlab', { ...PUSH_PAYLOAD.gitlab(push), after: '0'.repeat(40) });
    expect(deleted.deleted).toBe(true);
    const tag = parsePush('github', { ...PUSH_PAYLOAD.github(push), ref: 'refs/tags/v1' });
    expect(tag.branch).toBeNull();
  });

  it("reads GitHub's form-encoded deliveries", () => {
    const json = JSON.stringify({ a: 1 });
    const form = `payload=${encodeURIComponent(json)}`;
    expect(parseBody(Buffer.from(form), 'application/x-www-form-urlencoded')).toEqual({ a: 1 });
    expect(() => parseBody(Buffer.from('{'), 'application/json')).toThrow(/not valid JSON/);
  });
});

describe('repository URLs', () => {
  it.each([
    ['https://GitHub.com/acme/site.git', 'https://github.com/acme/site'],
    ['https://github.com/acme/site/', 'https://github.com/acme/site'],
    ['HTTP://github.com/acme/site.git/', 'https://github.com/acme/site'],
    ['git@github.com:acme/site.git', 'ssh://github.com/acme/site'],
    ['ssh://git@GITHUB.com/acme/site', 'ssh://github.com/acme/site'],
    ['file:///tmp/repo', 'file:///tmp/repo'],
  ])('%s → %s', (url, normal) => {
    expect(normalizeRepoUrl(url)).toBe(normal);
  });

  it('matches a project by any of the URLs a payload gives, and nothing else', () => {
    expect(
      sameRepository('git@github.com:acme/site.git', [
        'https://github.com/acme/site.git',
        'git@github.com:acme/site.git',
      ]),
    ).toBe(true);
    expect(sameRepository('https://github.com/acme/site', ['https://github.com/acme/site.git'])).toBe(true);
    expect(sameRepository('https://github.com/acme/site', ['https://github.com/acme/site-fork.git'])).toBe(
      false,
    );
    expect(sameRepository('https://github.com/acme/site', ['https://evil.example/acme/site.git'])).toBe(
      false,
    );
    expect(sameRepository('https://github.com/acme/site', [])).toBe(false);
  });

  it("takes the project's gitRef as the production branch, else the payload's default", () => {
    expect(productionBranchOf(null, 'main')).toBe('main');
    expect(productionBranchOf('release', 'main')).toBe('release');
    expect(productionBranchOf('refs/heads/release', 'main')).toBe('release');
    expect(productionBranchOf(null, null)).toBeNull();
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then one per refill, per key', () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 2, perMinute: 60 }, () => now);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0);
    now += 1000;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBeGreaterThan(0);
  });

  it('keeps at most maxKeys keys', () => {
    const limiter = new RateLimiter({ burst: 1, perMinute: 1, maxKeys: 2 }, () => 0);
    limiter.take('a');
    limiter.take('b');
    limiter.take('c');
    expect(limiter.take('c')).toBeGreaterThan(0);
    expect(limiter.take('a')).toBe(0); // forgotten, so it starts full again
  });
});

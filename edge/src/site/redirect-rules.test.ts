import { describe, expect, it } from 'vitest';
import { compilePathPattern, matchPathPattern } from './path-pattern.js';
import { compileRedirects, matchRedirect } from './redirect-rules.js';

const rules = compileRedirects([
  { from: '/blog/:year/:slug', to: '/posts/:year/:slug', status: 301, force: false },
  { from: '/docs/*', to: '/guide/:splat', status: 302, force: false },
  { from: '/forced', to: '/elsewhere', status: 307, force: true },
  { from: '/app/*', to: '/index.html', status: 200, force: false },
  { from: '/proxy/*', to: 'https://example.com/:splat', status: 200, force: false },
  { from: '/go/*', to: '/:splat', status: 302, force: false },
  { from: 'https://old.example/*', to: '/new', status: 301, force: false },
]);

describe('path patterns', () => {
  it('matches literals, placeholders and a trailing splat', () => {
    const pattern = compilePathPattern('/a/:id/*');
    expect(pattern && matchPathPattern(pattern, ['a', '1', 'x', 'y'])).toEqual({
      id: '1',
      splat: ['x', 'y'],
    });
    expect(pattern && matchPathPattern(pattern, ['a', '1'])).toEqual({ id: '1', splat: [] });
    expect(pattern && matchPathPattern(pattern, ['b', '1'])).toBeUndefined();
    const exact = compilePathPattern('/a/:id');
    expect(exact && matchPathPattern(exact, ['a', '1', '2'])).toBeUndefined();
  });
});

describe('redirect rules', () => {
  it('skips unsupported rules: host patterns and external rewrites', () => {
    expect(rules.map((r) => r.pattern.source)).toEqual([
      '/blog/:year/:slug',
      '/docs/*',
      '/forced',
      '/app/*',
      '/go/*',
    ]);
  });

  it('substitutes placeholders and splats, encoding each segment', () => {
    expect(matchRedirect(rules, ['blog', '2024', 'a b'], '', false)).toEqual({
      kind: 'redirect',
      status: 301,
      location: '/posts/2024/a%20b',
    });
    expect(matchRedirect(rules, ['docs', 'x', 'y'], '?q=1', false)).toEqual({
      kind: 'redirect',
      status: 302,
      location: '/guide/x/y?q=1',
    });
  });

  it('separates forced rules from shadowable ones', () => {
    expect(matchRedirect(rules, ['forced'], '', false)).toBeUndefined();
    expect(matchRedirect(rules, ['forced'], '', true)).toMatchObject({ status: 307 });
  });

  it('returns rewrites as paths', () => {
    expect(matchRedirect(rules, ['app', 'deep'], '', false)).toEqual({
      kind: 'rewrite',
      path: '/index.html',
    });
  });

  it('never produces a protocol-relative Location', () => {
    expect(matchRedirect(rules, ['go', '', 'evil.example'], '', false)).toMatchObject({
      location: '/evil.example',
    });
    expect(matchRedirect(rules, ['go', '\\evil.example'], '', false)).toMatchObject({
      location: '/%5Cevil.example',
    });
  });
});

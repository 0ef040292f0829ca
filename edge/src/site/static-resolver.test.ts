import type { ManifestFile } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import { isSpaNavigation, nearestNotFoundPage, resolveStatic, type SiteFiles } from './static-resolver.js';

const file = (n: number): ManifestFile => ({
  hash: String(n).padStart(64, '0'),
  size: n,
  contentType: 'text/html',
});
const files: SiteFiles = new Map([
  ['index.html', file(1)],
  ['about.html', file(2)],
  ['docs/index.html', file(3)],
  ['both.html', file(4)],
  ['both/index.html', file(5)],
  ['app.js', file(6)],
  ['blog/404.html', file(7)],
]);

describe('resolveStatic', () => {
  it.each([
    [[], false, { kind: 'file', path: 'index.html' }],
    [['about'], false, { kind: 'file', path: 'about.html' }],
    [['docs'], false, { kind: 'file', path: 'docs/index.html' }],
    [['about.html'], false, { kind: 'redirect', location: '/about' }],
    [['about'], true, { kind: 'redirect', location: '/about' }],
    [['index.html'], false, { kind: 'redirect', location: '/' }],
    [['docs', 'index.html'], false, { kind: 'redirect', location: '/docs' }],
    [['both'], false, { kind: 'file', path: 'both.html' }],
    // /both would serve both.html, so both/index.html stays reachable under its own name.
    [['both', 'index.html'], false, { kind: 'file', path: 'both/index.html' }],
    [['app.js'], false, { kind: 'file', path: 'app.js' }],
    [['app.js'], true, { kind: 'redirect', location: '/app.js' }],
    [['missing'], true, { kind: 'missing' }],
    [['constructor'], false, { kind: 'missing' }],
  ] as const)('%j (trailing slash %s) → %j', (segments, slash, expected) => {
    expect(resolveStatic(files, segments, slash, '')).toMatchObject(expected);
  });

  it('keeps the query on canonical redirects', () => {
    expect(resolveStatic(files, ['about.html'], false, '?a=1')).toEqual({
      kind: 'redirect',
      location: '/about?a=1',
    });
  });
});

describe('404 pages and SPA navigations', () => {
  it('finds the nearest 404.html', () => {
    expect(nearestNotFoundPage(files, ['blog', 'a', 'b'])?.path).toBe('blog/404.html');
    expect(nearestNotFoundPage(files, ['other'])).toBeUndefined();
  });

  it.each([
    [['settings'], 'text/html', true],
    [['users', 'jane.doe'], 'text/html,*/*', true],
    [['app.js'], 'text/html', false],
    [['logo.PNG'], 'text/html', false],
    [['settings'], '*/*', false],
    [['settings'], null, false],
  ] as const)('%j accepting %s → %s', (segments, accept, expected) => {
    expect(isSpaNavigation(segments, accept)).toBe(expected);
  });
});

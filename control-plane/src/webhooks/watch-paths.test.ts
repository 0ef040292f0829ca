import { describe, expect, it } from 'vitest';
import { compileWatchPaths, watchPathsSkip } from './watch-paths.js';

describe('watch paths', () => {
  const w = compileWatchPaths(['apps/web', 'packages/*/src/**', '*.lock', '!apps/web/**/*.md']);

  it.each([
    ['apps/web/index.html', true],
    ['apps/web/src/deep/a.ts', true],
    ['apps/webby/index.html', false],
    ['apps/api/index.ts', false],
    ['packages/ui/src/button.tsx', true],
    ['packages/ui/README.md', false],
    ['yarn.lock', true],
    ['sub/yarn.lock', false],
    ['apps/web/docs/notes.md', false],
  ])('%s → %s', (file, expected) => {
    expect(w.matches(file)).toBe(expected);
  });

  it('`**/` matches zero segments too; regex characters are literal', () => {
    const g = compileWatchPaths(['src/**/index.ts', 'a+b/(x).txt']);
    expect(g.matches('src/index.ts')).toBe(true);
    expect(g.matches('src/a/b/index.ts')).toBe(true);
    expect(g.matches('a+b/(x).txt')).toBe(true);
    expect(g.matches('aab/x.txt')).toBe(false);
  });

  it('skips only on a complete list with no match; no patterns or unknown changes build', () => {
    expect(watchPathsSkip(['apps/web'], ['apps/api/a.ts', 'README.md'])).toBe(
      'skipped: none of the 2 changed files matches the watch paths',
    );
    expect(watchPathsSkip(['apps/web'], ['apps/web/a.ts'])).toBeNull();
    expect(watchPathsSkip([], ['x'])).toBeNull();
    expect(watchPathsSkip(['apps/web'], null)).toBeNull();
    expect(watchPathsSkip(['apps/web'], [])).toBeNull();
  });
});

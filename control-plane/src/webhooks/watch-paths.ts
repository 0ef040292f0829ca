/**
 * Watch paths: a monorepo project builds only when a push changes a file it cares about. A small
 * glob dialect, the one CI systems share: `*` and `?` within one path segment, `**` across any
 * number of them, a leading `!` excludes. A pattern also covers everything under the directory
 * it names (`apps/web` means `apps/web/**`).
 */

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more whole segments; a trailing `**` matches the rest.
      if (glob[i + 2] === '/') {
        out += '(?:[^/]+/)*';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}(?:/.*)?$`);
}

export interface WatchPaths {
  /** Whether a changed file is one the project watches. */
  matches(file: string): boolean;
}

export function compileWatchPaths(patterns: string[]): WatchPaths {
  const include: RegExp[] = [];
  const exclude: RegExp[] = [];
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const glob = (negated ? raw.slice(1) : raw).replace(/^\.?\/+/, '').replace(/\/+$/, '');
    (negated ? exclude : include).push(globToRegExp(glob));
  }
  return {
    matches: (file) => include.some((r) => r.test(file)) && !exclude.some((r) => r.test(file)),
  };
}

/**
 * Why a push is skipped by its watch paths, or null when it builds. Unknown changes (a payload
 * without file lists, or one that may be cut short) always build: skipping is only ever decided
 * on a complete list.
 */
export function watchPathsSkip(patterns: string[], changedFiles: string[] | null): string | null {
  if (patterns.length === 0 || changedFiles === null || changedFiles.length === 0) return null;
  const watch = compileWatchPaths(patterns);
  if (changedFiles.some((f) => watch.matches(f))) return null;
  const n = changedFiles.length;
  return `skipped: none of the ${n} changed file${n === 1 ? '' : 's'} matches the watch paths`;
}

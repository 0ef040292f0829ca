import type { RedirectRule } from '@deploysphere/contracts';
import {
  compilePathPattern,
  matchPathPattern,
  type PathPattern,
  type PatternParams,
} from './path-pattern.js';

export interface CompiledRedirect {
  pattern: PathPattern;
  to: string;
  status: RedirectRule['status'];
  force: boolean;
}

export type RedirectOutcome =
  { kind: 'redirect'; status: number; location: string } | { kind: 'rewrite'; path: string };

export function compileRedirects(rules: readonly RedirectRule[]): CompiledRedirect[] {
  const compiled: CompiledRedirect[] = [];
  for (const rule of rules) {
    const pattern = compilePathPattern(rule.from);
    // A 200 rewrite may only point inside the deployment: the edge is not an open proxy.
    if (!pattern || (rule.status === 200 && !rule.to.startsWith('/'))) continue;
    compiled.push({ pattern, to: rule.to, status: rule.status, force: rule.force });
  }
  return compiled;
}

/**
 * The first rule (in file order, as Netlify and Pages do) whose pattern matches. `forced` picks
 * which rules are considered: forced rules run before static files, the rest only when no file
 * matched ("shadowing").
 */
export function matchRedirect(
  rules: readonly CompiledRedirect[],
  segments: readonly string[],
  search: string,
  forced: boolean,
): RedirectOutcome | undefined {
  for (const rule of rules) {
    if (rule.force !== forced) continue;
    const params = matchPathPattern(rule.pattern, segments);
    if (!params) continue;
    const target = substitute(rule.to, params);
    if (rule.status === 200) return { kind: 'rewrite', path: target.split('?')[0] ?? '/' };
    const withQuery = search && !target.includes('?') ? `${target}${search}` : target;
    return { kind: 'redirect', status: rule.status, location: safeLocation(withQuery) };
  }
  return undefined;
}

/** Fills `:name` and `:splat` with the matched values, each segment percent-encoded. */
function substitute(template: string, params: PatternParams): string {
  return template.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return Array.isArray(value) ? value.map(encodeURIComponent).join('/') : encodeURIComponent(value);
  });
}

/**
 * "//evil.example" and "/\evil.example" are protocol-relative URLs to browsers. A same-site
 * target must stay same-site, whatever a placeholder contained.
 */
function safeLocation(location: string): string {
  return location.replace(/^\/[/\\]+/, '/');
}

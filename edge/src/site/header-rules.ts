import type { HeaderRule } from '@deploysphere/contracts';
import { compilePathPattern, matchPathPattern, type PathPattern } from './path-pattern.js';

export interface CompiledHeaderRule {
  pattern: PathPattern;
  headers: [string, string][];
}

/**
 * Headers a site's `_headers` may not set: they describe the body or the platform's own
 * decisions, and a wrong value would corrupt responses or hide which region served.
 */
const PROTECTED = new Set([
  'content-length',
  'content-range',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'etag',
  'accept-ranges',
  'location',
  'x-content-type-options',
  'x-deploysphere-region',
  'x-deploysphere-cache',
]);

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function compileHeaderRules(rules: readonly HeaderRule[]): CompiledHeaderRule[] {
  const compiled: CompiledHeaderRule[] = [];
  for (const rule of rules) {
    const pattern = compilePathPattern(rule.pattern);
    if (!pattern) continue;
    // Invalid names or values would make Headers.set throw mid-response; drop them up front.
    const headers = Object.entries(rule.headers).filter(
      ([name, value]) =>
        HEADER_NAME.test(name) && !PROTECTED.has(name.toLowerCase()) && !/[\r\n\0]/.test(value),
    );
    compiled.push({ pattern, headers });
  }
  return compiled;
}

/** Applies every matching rule in file order; a later rule overrides an earlier one's header. */
export function applyHeaderRules(
  rules: readonly CompiledHeaderRule[],
  segments: readonly string[],
  headers: Headers,
): void {
  for (const rule of rules) {
    if (!matchPathPattern(rule.pattern, segments)) continue;
    for (const [name, value] of rule.headers) headers.set(name, value);
  }
}

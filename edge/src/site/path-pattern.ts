type PatternSegment =
  { kind: 'literal'; value: string } | { kind: 'param'; name: string } | { kind: 'splat' };

/** A `_redirects` / `_headers` path pattern: literal segments, `:name` placeholders, and a final `*`. */
export interface PathPattern {
  source: string;
  segments: PatternSegment[];
}

export type PatternParams = Record<string, string | string[]>;

/**
 * Compiles a pattern, or returns undefined for forms the edge does not support (a full URL with a
 * host, or no leading slash): such a rule is skipped rather than guessed at.
 */
export function compilePathPattern(source: string): PathPattern | undefined {
  const path = source.split('?')[0] ?? '';
  if (!path.startsWith('/')) return undefined;
  const parts = path.split('/').filter((p) => p !== '');
  const segments: PatternSegment[] = parts.map((part, index): PatternSegment => {
    if (part === '*' && index === parts.length - 1) return { kind: 'splat' };
    if (/^:[A-Za-z_][A-Za-z0-9_]*$/.test(part)) return { kind: 'param', name: part.slice(1) };
    return { kind: 'literal', value: safeDecode(part) };
  });
  return { source, segments };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Matches decoded request segments. A splat matches zero or more trailing segments, and is
 * returned as the segment list so callers re-encode each one.
 */
export function matchPathPattern(
  pattern: PathPattern,
  segments: readonly string[],
): PatternParams | undefined {
  const params: PatternParams = {};
  for (let i = 0; i < pattern.segments.length; i++) {
    const part = pattern.segments[i];
    if (!part) return undefined;
    if (part.kind === 'splat') {
      params.splat = segments.slice(i);
      return params;
    }
    const segment = segments[i];
    if (segment === undefined) return undefined;
    if (part.kind === 'literal' && part.value !== segment) return undefined;
    if (part.kind === 'param') params[part.name] = segment;
  }
  return segments.length === pattern.segments.length ? params : undefined;
}

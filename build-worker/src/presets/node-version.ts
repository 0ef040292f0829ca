import type { ProjectFiles } from './project-files.js';

export interface NodeVersionCheck {
  /** What the project asked for, and where ("engines.node >=18", ".nvmrc 20"). */
  requested: string | null;
  /** The platform's Node version, which is what the build uses. */
  running: string;
  /** false: the request cannot be honoured and the log must say so. null: could not tell. */
  satisfied: boolean | null;
}

type Version = [number, number, number];

function parseVersion(text: string): Version | null {
  const m = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(text.trim());
  if (!m) return null;
  const n = (s: string | undefined) => (s === undefined || s === 'x' || s === '*' ? -1 : Number(s));
  return [Number(m[1]), n(m[2]), n(m[3])];
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i]! !== b[i]!) return a[i]! - b[i]!;
  return 0;
}

/** One comparator (`>=18`, `^20.1`, `~22`, `20.x`, `20`) against a concrete version; null if unreadable. */
function satisfiesComparator(v: Version, comparator: string): boolean | null {
  const m = /^(>=|<=|>|<|\^|~|=)?\s*(v?[\d.x*]+)$/.exec(comparator.trim());
  if (!m) return comparator.trim() === '*' || comparator.trim() === '' ? true : null;
  const target = parseVersion(m[2]!);
  if (!target) return null;
  const filled: Version = [target[0], Math.max(0, target[1]), Math.max(0, target[2])];
  const op = m[1] ?? '';
  const c = compare(v, filled);
  switch (op) {
    case '>=':
      return c >= 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    case '<':
      return c < 0;
    case '^':
      return c >= 0 && v[0] === target[0];
    case '~':
      return c >= 0 && v[0] === target[0] && (target[1] < 0 || v[1] === target[1]);
    default:
      // '20', '20.x', '=20.1.0': every given part must match.
      return target.every((part, i) => part < 0 || v[i] === part);
  }
}

/** A semver range as npm's `engines` uses it: `||` alternatives of space-separated comparators. */
export function satisfiesRange(version: string, range: string): boolean | null {
  const v = parseVersion(version);
  if (!v) return null;
  let unknown = false;
  for (const alternative of range.split('||')) {
    const parts = alternative
      .trim()
      .replace(/(>=|<=|>|<|\^|~|=)\s+/g, '$1')
      .split(/\s+/)
      .filter(Boolean);
    if (parts.length === 3 && parts[1] === '-') {
      // "18 - 22"
      const lo = satisfiesComparator(v, `>=${parts[0]}`);
      const hi = parseVersion(parts[2]!);
      if (lo === null || !hi) {
        unknown = true;
        continue;
      }
      if (lo && (hi[1] < 0 ? v[0] <= hi[0] : compare(v, [hi[0], hi[1], Math.max(0, hi[2])]) <= 0))
        return true;
      continue;
    }
    const results = parts.map((p) => satisfiesComparator(v, p));
    if (results.some((r) => r === null)) {
      unknown = true;
      continue;
    }
    if (results.every(Boolean)) return true;
  }
  return unknown ? null : false;
}

/**
 * The Node version the project asks for, from .nvmrc / .node-version first (what version
 * managers read), then engines.node. The worker has one Node: it can only say whether that one
 * fits, never switch.
 */
export async function checkNodeVersion(
  files: ProjectFiles,
  packageJson: Record<string, unknown> | null,
  running = process.versions.node,
): Promise<NodeVersionCheck> {
  for (const name of ['.nvmrc', '.node-version']) {
    const text = (await files.read(name))?.trim();
    if (!text) continue;
    const line = text.split('\n')[0]!.trim();
    if (/^(lts\/|node$|stable$|latest$)/.test(line))
      return { requested: `${name} ${line}`, running, satisfied: null };
    return {
      requested: `${name} ${line}`,
      running,
      satisfied: satisfiesRange(running, line.replace(/^v/, '')),
    };
  }
  const engines = packageJson?.engines;
  const range =
    engines && typeof engines === 'object' ? (engines as Record<string, unknown>).node : undefined;
  if (typeof range === 'string' && range.trim()) {
    return { requested: `engines.node ${range.trim()}`, running, satisfied: satisfiesRange(running, range) };
  }
  return { requested: null, running, satisfied: null };
}

import type { ManifestFile } from '@deploysphere/contracts';
import { encodePath } from './request-path.js';

export type SiteFiles = ReadonlyMap<string, ManifestFile>;

export type Resolution =
  | { kind: 'file'; path: string; file: ManifestFile }
  | { kind: 'redirect'; location: string }
  | { kind: 'missing' };

/**
 * Maps a decoded path onto the deployment's files. The canonical URL of a page has no trailing
 * slash and no ".html" (the root is "/"):
 *
 *   /about        → about.html, else about/index.html
 *   /about/       → 308 /about        (whenever /about resolves)
 *   /about.html   → 308 /about        (when /about resolves to that same file)
 *   /about/index.html → 308 /about    (likewise)
 *   /app.js/      → 308 /app.js
 *
 * Anything that does not resolve is "missing"; the caller picks the 404 page or SPA fallback.
 */
export function resolveStatic(
  files: SiteFiles,
  segments: readonly string[],
  trailingSlash: boolean,
  search: string,
): Resolution {
  const found = lookup(files, segments);
  if (trailingSlash) {
    return found ? { kind: 'redirect', location: encodePath(segments) + search } : { kind: 'missing' };
  }
  if (!found) return { kind: 'missing' };
  const canonical = canonicalSegments(found.path);
  if (canonical && !sameSegments(canonical, segments)) {
    const canonicalTarget = lookup(files, canonical);
    if (canonicalTarget && canonicalTarget.path === found.path) {
      return { kind: 'redirect', location: encodePath(canonical) + search };
    }
  }
  return { kind: 'file', ...found };
}

/** Exact file, then "<path>.html", then "<path>/index.html". */
export function lookup(
  files: SiteFiles,
  segments: readonly string[],
): { path: string; file: ManifestFile } | undefined {
  const base = segments.join('/');
  const candidates = base === '' ? ['index.html'] : [base, `${base}.html`, `${base}/index.html`];
  for (const path of candidates) {
    const file = files.get(path);
    if (file) return { path, file };
  }
  return undefined;
}

/** The clean-URL segments for an HTML file, or undefined when the file is not a page. */
function canonicalSegments(path: string): string[] | undefined {
  if (!path.endsWith('.html')) return undefined;
  const parts = path.split('/');
  const last = parts.pop() ?? '';
  if (last === 'index.html') return parts;
  return [...parts, last.slice(0, -'.html'.length)];
}

function sameSegments(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** The nearest 404.html walking up from the requested path's directory to the root. */
export function nearestNotFoundPage(
  files: SiteFiles,
  segments: readonly string[],
): { path: string; file: ManifestFile } | undefined {
  for (let depth = Math.max(0, segments.length - 1); depth >= 0; depth--) {
    const path = [...segments.slice(0, depth), '404.html'].join('/');
    const file = files.get(path);
    if (file) return { path, file };
  }
  return undefined;
}

/** Extensions that name a sub-resource, never a page: a missing one stays 404 even for an SPA. */
const ASSET_EXTENSIONS = new Set(
  (
    'js mjs cjs css map json txt xml csv wasm png jpg jpeg gif webp avif svg ico bmp tif tiff ' +
    'woff woff2 ttf otf eot mp4 webm ogg mp3 wav flac m4a mov pdf zip gz br tar webmanifest'
  ).split(' '),
);

/**
 * Whether a missing path may fall back to the SPA's index.html: a GET/HEAD navigation that accepts
 * text/html and does not name a static asset type ("/users/jane.doe" still counts as a page).
 */
export function isSpaNavigation(segments: readonly string[], accept: string | null): boolean {
  if (!accept || !/\btext\/html\b/i.test(accept)) return false;
  const last = segments.at(-1) ?? '';
  const dot = last.lastIndexOf('.');
  if (dot <= 0) return true;
  return !ASSET_EXTENSIONS.has(last.slice(dot + 1).toLowerCase());
}

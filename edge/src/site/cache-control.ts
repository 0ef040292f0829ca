export const CACHE_HTML = 'public, max-age=0, must-revalidate';
export const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
/** Short enough that a promote reaches browsers within a minute for unhashed assets. */
export const CACHE_SHORT = 'public, max-age=60';
/** Platform pages (unknown host, errors) must not be cached anywhere. */
export const CACHE_NONE = 'no-store';

/** Build tools that put every file under these folders hash every file name. */
const IMMUTABLE_DIRS = ['_next/static/', '_astro/', '_nuxt/', '_app/immutable/'];

/**
 * A fingerprint is a dot- or dash-separated token after the base name that is either
 * 8+ hex characters with a digit (webpack, CRA: main.1a2b3c4d.js) or an 8–12 character
 * base64url token with a digit or an inner capital (Vite, Rollup: index-DiwrgTda.js). Plain words
 * ("stylesheet", "Dropdown") do not qualify: wrongly marking a file immutable would pin it in
 * browsers for a year.
 */
export function isFingerprinted(path: string): boolean {
  if (IMMUTABLE_DIRS.some((dir) => path.startsWith(dir))) return true;
  const name = path.slice(path.lastIndexOf('/') + 1);
  // Tokens between the base name and the extension: "main.8f3e2a1b.chunk.js" → 8f3e2a1b, chunk.
  const tokens = name.split(/[.-]/).slice(1, -1);
  return tokens.some(isHashToken);
}

function isHashToken(token: string): boolean {
  if (/^[0-9a-f]{8,64}$/.test(token) && /\d/.test(token)) return true;
  return /^[A-Za-z0-9_]{8,12}$/.test(token) && (/\d/.test(token) || /.[A-Z]/.test(token));
}

export function cacheControlFor(path: string, contentType: string): string {
  if (/^text\/html\b/i.test(contentType) || path.endsWith('.html')) return CACHE_HTML;
  return isFingerprinted(path) ? CACHE_IMMUTABLE : CACHE_SHORT;
}

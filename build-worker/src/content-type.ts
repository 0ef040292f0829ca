import mime from 'mime';

/** Types served as UTF-8 text besides text/*. */
const UTF8_TYPES = new Set([
  'application/javascript',
  'application/json',
  'application/manifest+json',
  'image/svg+xml',
  'application/xml',
]);

/**
 * The Content-Type a file is served with, from its extension (the `mime` package's table). Pure,
 * so the dashboard's folder drop uses the same one as the build worker and the CLI.
 */
export function contentTypeFor(path: string): string {
  const type = mime.getType(path) ?? 'application/octet-stream';
  return type.startsWith('text/') || UTF8_TYPES.has(type) ? `${type}; charset=utf-8` : type;
}

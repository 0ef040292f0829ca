import { AppError } from '@deploysphere/contracts';

/** Longest raw path the edge looks at; manifests cap paths at 1024 characters. */
export const MAX_RAW_PATH_LENGTH = 2048;

export interface RequestPath {
  /** Decoded segments, never empty strings, never "." or "..", never containing "/" or "\". */
  segments: string[];
  /** The raw path ended in "/" (and is not the root). */
  trailingSlash: boolean;
}

/**
 * Turns a raw URL pathname into decoded segments that can only name a file inside the deployment.
 *
 * Each segment is percent-decoded exactly once, after splitting, so an encoded slash (%2f, %5c)
 * can never create a new path level, and double encoding (%252e) stays a literal name that simply
 * matches nothing. Whatever survives the URL parser and still decodes to a dot segment, a slash,
 * a backslash or a control character is refused outright. Empty segments ("//") are dropped, which
 * also stops "//host" from reaching a redirect target.
 */
export function parseRequestPath(rawPathname: string): RequestPath {
  if (rawPathname.length > MAX_RAW_PATH_LENGTH) {
    throw new AppError(414, 'uri_too_long', 'The request path is too long');
  }
  const rawSegments = rawPathname.split('/');
  const segments: string[] = [];
  for (const raw of rawSegments) {
    if (raw === '') continue;
    const segment = decodeSegment(raw);
    if (segment === '.' || segment === '..' || hasForbiddenCharacter(segment)) {
      throw AppError.badRequest('The request path is not allowed');
    }
    segments.push(segment);
  }
  return { segments, trailingSlash: segments.length > 0 && rawPathname.endsWith('/') };
}

/** Slashes would add path levels; control characters (NUL, CR, LF…) have no place in a file name. */
function hasForbiddenCharacter(segment: string): boolean {
  for (let i = 0; i < segment.length; i++) {
    const code = segment.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x2f || code === 0x5c) return true;
  }
  return false;
}

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw AppError.badRequest('The request path has invalid percent-encoding');
  }
}

/** Re-encodes decoded segments into a URL path, so values taken from a request are safe in a Location. */
export function encodePath(segments: readonly string[], trailingSlash = false): string {
  const joined = `/${segments.map(encodeURIComponent).join('/')}`;
  return trailingSlash && segments.length > 0 ? `${joined}/` : joined;
}

import { AppError, type EdgeRegion, type ManifestFile } from '@deploysphere/contracts';
import type { BlobLookup } from '../cache/blob-store.js';
import { waitUntilOf, type EdgeContext } from '../http/edge-env.js';
import type { Site } from '../cache/manifest-store.js';
import { sliceBody } from './byte-slice.js';
import { cacheControlFor } from './cache-control.js';
import { decideRange, etagFor, ifNoneMatchHits } from './conditional.js';
import { applyHeaderRules } from './header-rules.js';

export interface FileToServe {
  site: Site;
  path: string;
  file: ManifestFile;
  /** 404 for a 404.html page: such responses get no ETag and no ranges. */
  status: 200 | 404;
  /** The request's own segments: `_headers` patterns match the URL, not the file. */
  requestSegments: readonly string[];
  manifestRegion: string;
  regions: readonly EdgeRegion[];
}

/**
 * Answers with one file of the deployment. Conditional requests, HEAD and unsatisfiable ranges
 * are answered from the manifest alone, so they never touch an origin.
 */
export async function fileResponse(c: EdgeContext, target: FileToServe): Promise<Response> {
  const { file, status } = target;
  const etag = etagFor(file.hash);
  const headers = new Headers({
    'content-type': file.contentType,
    'cache-control': cacheControlFor(target.path, file.contentType),
    'x-deploysphere-region': target.manifestRegion,
  });
  if (status === 200) {
    headers.set('etag', etag);
    headers.set('accept-ranges', 'bytes');
  }
  applyHeaderRules(target.site.headerRules, target.requestSegments, headers);

  if (status === 200 && ifNoneMatchHits(c.req.header('if-none-match') ?? null, etag)) {
    headers.delete('content-type');
    return new Response(null, { status: 304, headers });
  }

  const range =
    status === 200
      ? decideRange(c.req.header('range') ?? null, file.size, c.req.header('if-range') ?? null, etag)
      : ({ kind: 'full' } as const);
  if (range.kind === 'unsatisfiable') {
    headers.set('content-range', `bytes */${file.size}`);
    headers.delete('content-type');
    return new Response(null, { status: 416, headers });
  }
  const partial = range.kind === 'partial';
  const length = partial ? range.end - range.start + 1 : file.size;
  if (partial) headers.set('content-range', `bytes ${range.start}-${range.end}/${file.size}`);
  headers.set('content-length', String(length));
  const responseStatus = partial ? 206 : status;

  if (c.req.method === 'HEAD') return new Response(null, { status: responseStatus, headers });

  const services = c.var.services;
  const blob = await services.blobs.get(file.hash, file.size, target.regions, waitUntilOf(c));
  if (!blob.ok) throw blobUnavailable(target.path, file, blob);
  headers.set('x-deploysphere-region', blob.region);
  headers.set('x-deploysphere-cache', blob.cache);
  c.set('bodyBytes', length);
  const body = partial ? sliceBody(blob.body, range.start, range.end) : blob.body;
  return new Response(body, { status: responseStatus, headers });
}

/**
 * 502 when a region answered with bytes that failed verification (or the file is too large to
 * verify): the origin's content is wrong, not merely out of reach. 503 when every region was
 * simply unreachable or lacked the object. Details go to the log, never to the visitor.
 */
function blobUnavailable(
  path: string,
  file: ManifestFile,
  lookup: Extract<BlobLookup, { ok: false }>,
): AppError {
  const cause = {
    file: path,
    hash: file.hash,
    size: file.size,
    failures: lookup.failures,
    ...(lookup.tooLarge ? { reason: 'larger than the edge verifies' } : {}),
  };
  const badContent = lookup.tooLarge === true || lookup.failures.some((f) => f.reason === 'corrupt');
  return badContent
    ? new AppError(502, 'bad_gateway', 'The site is temporarily unavailable', { cause })
    : AppError.unavailable('The site is temporarily unavailable', cause);
}

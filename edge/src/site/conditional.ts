/** The ETag of a file is its content hash: identical bytes share it across deployments and regions. */
export function etagFor(hash: string): string {
  return `"${hash}"`;
}

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2), so W/"x" matches "x". */
export function ifNoneMatchHits(header: string | null, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === opaque);
}

export type RangeDecision =
  { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * Decides a Range request for a body of `size` bytes. Single byte ranges get 206; multiple ranges
 * are answered with the whole body (allowed by RFC 9110 and far simpler than multipart); other
 * units are ignored. A malformed or unsatisfiable byte range gets 416. If-Range with a different
 * validator means the client's copy is stale, so it gets the full body.
 */
export function decideRange(
  header: string | null,
  size: number,
  ifRange: string | null,
  etag: string,
): RangeDecision {
  if (!header) return { kind: 'full' };
  if (ifRange && ifRange.trim() !== etag) return { kind: 'full' };
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!match) return { kind: 'full' };
  const specs = (match[1] ?? '').split(',');
  if (specs.length > 1)
    return specs.every((s) => /^\s*\d*\s*-\s*\d*\s*$/.test(s)) ? { kind: 'full' } : { kind: 'unsatisfiable' };
  const spec = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(specs[0] ?? '');
  if (!spec) return { kind: 'unsatisfiable' };
  const [, first = '', last = ''] = spec;
  if (first === '' && last === '') return { kind: 'unsatisfiable' };
  if (size === 0) return { kind: 'unsatisfiable' };
  if (first === '') {
    const suffix = Number(last);
    if (!Number.isSafeInteger(suffix) || suffix === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start >= size || end < start) {
    return { kind: 'unsatisfiable' };
  }
  return { kind: 'partial', start, end };
}

import type { EdgeRegion } from '@deploysphere/contracts';
import type { RegionHealth } from './region-health.js';
import type { OriginFailure, S3Origin } from './s3-origin.js';

export interface RegionFailure {
  region: string;
  reason: OriginFailure;
  status?: number;
}

export type FailoverResult<T> =
  | { ok: true; value: T; region: EdgeRegion; failures: RegionFailure[] }
  | { ok: false; failures: RegionFailure[] };

/**
 * Tries `regions` in order until one yields a usable object. `accept` turns a 2xx response into
 * a value, or rejects it as corrupt with undefined (a manifest that does not parse, a blob whose
 * bytes do not hash to its key), which also moves on to the next region and marks this one failed.
 */
export async function fetchWithFailover<T>(
  origin: S3Origin,
  health: RegionHealth,
  regions: readonly EdgeRegion[],
  key: string,
  accept: (response: Response, region: EdgeRegion) => Promise<T | undefined>,
): Promise<FailoverResult<T>> {
  const failures: RegionFailure[] = [];
  for (const region of health.prioritise(regions)) {
    const attempt = await origin.get(region, key);
    if (!attempt.ok) {
      failures.push({
        region: region.id,
        reason: attempt.reason,
        ...(attempt.status ? { status: attempt.status } : {}),
      });
      // A 404 means this region lacks the object (an incomplete copy), not that it is down.
      if (attempt.reason !== 'not_found') health.markFailed(region.id);
      continue;
    }
    let value: T | undefined;
    try {
      value = await accept(attempt.response, region);
    } catch {
      // The body failed mid-stream: a network error, not bad content.
      failures.push({ region: region.id, reason: 'network' });
      health.markFailed(region.id);
      continue;
    }
    if (value === undefined) {
      failures.push({ region: region.id, reason: 'corrupt' });
      health.markFailed(region.id);
      continue;
    }
    health.markHealthy(region.id);
    return { ok: true, value, region, failures };
  }
  return { ok: false, failures };
}

import type { EdgeRegion } from '@deploysphere/contracts';
import { greatCircleKm, type GeoPoint } from './geo.js';

/**
 * The order in which to try a deployment's regions: nearest first when the visitor's location
 * is known, otherwise the record's order (primary first). Region ids this edge has no config
 * for are skipped: a deployment can only be served from buckets the edge can reach.
 */
export function orderRegions(
  routeRegions: readonly string[],
  known: ReadonlyMap<string, EdgeRegion>,
  visitor: GeoPoint | undefined,
): EdgeRegion[] {
  const candidates: EdgeRegion[] = [];
  for (const id of routeRegions) {
    const region = known.get(id);
    if (region && !candidates.includes(region)) candidates.push(region);
  }
  if (!visitor) return candidates;
  // Array.prototype.sort is stable, so equal distances keep the primary-first order.
  return candidates
    .map((region) => ({ region, km: greatCircleKm(visitor, region) }))
    .sort((a, b) => a.km - b.km)
    .map((entry) => entry.region);
}

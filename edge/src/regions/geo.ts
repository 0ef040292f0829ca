import type { GeoPoint } from '@deploysphere/contracts';

export { greatCircleKm, type GeoPoint } from '@deploysphere/contracts';

/** Parses "lat,lon"; anything else (including out-of-range numbers) is "unknown", never an error. */
export function parseGeoPoint(value: string | null | undefined): GeoPoint | undefined {
  if (!value) return undefined;
  const match = /^\s*(-?\d{1,3}(?:\.\d{1,10})?)\s*,\s*(-?\d{1,3}(?:\.\d{1,10})?)\s*$/.exec(value);
  if (!match) return undefined;
  return toPoint(match[1], match[2]);
}

function toPoint(lat: unknown, lon: unknown): GeoPoint | undefined {
  const latitude = Number(lat);
  const longitude = Number(lon);
  if (lat === undefined || lon === undefined || lat === null || lon === null || lat === '' || lon === '') {
    return undefined;
  }
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return undefined;
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return undefined;
  return { latitude, longitude };
}

/** The part of `request.cf` the edge reads; Cloudflare sends latitude/longitude as strings. */
export interface CfGeo {
  latitude?: unknown;
  longitude?: unknown;
}

/**
 * Where the visitor is. In dev mode the x-deploysphere-geo header wins (demos and tests have no
 * real geolocation); in production only Cloudflare's `request.cf` counts, so a visitor cannot
 * steer themselves to a region.
 */
export function visitorLocation(
  headers: Headers,
  cf: CfGeo | undefined,
  devMode: boolean,
): GeoPoint | undefined {
  if (devMode) {
    const fromHeader = parseGeoPoint(headers.get('x-deploysphere-geo'));
    if (fromHeader) return fromHeader;
  }
  return cf ? toPoint(cf.latitude, cf.longitude) : undefined;
}

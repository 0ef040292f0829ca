import { greatCircleKm, type GeoPoint, type Region } from '@deploysphere/contracts';

/**
 * Which configured region is nearest the user, guessed without asking for anything: the IANA time
 * zone gives a continent (latitude band) and the standard UTC offset a longitude (15° per hour).
 * The guess is coarse, but regions sit continents apart, so it is right where it matters.
 *
 * Latency is not measured: the regions are S3 buckets behind one edge, so there is no per-region
 * endpoint a browser could time, and the geolocation API would pop a permission prompt.
 */

const AREA_LATITUDE: Record<string, number> = {
  Europe: 50,
  Africa: 5,
  Asia: 30,
  Australia: -30,
  Pacific: -15,
  Atlantic: 35,
  Indian: -10,
  Antarctica: -75,
  Arctic: 75,
};

/** America spans both hemispheres: the southern zones by name, the rest is North America. */
const SOUTH_AMERICA =
  /Argentina|Sao_Paulo|Santiago|Lima|Bogota|Caracas|Montevideo|Asuncion|La_Paz|Guayaquil|Cuiaba|Manaus|Recife|Belem|Fortaleza|Bahia|Punta_Arenas/;
const SOUTH_EAST_ASIA = /Singapore|Jakarta|Kuala_Lumpur|Manila|Bangkok|Ho_Chi_Minh|Makassar|Jayapura/;

export type Place = GeoPoint;

/** Where a time zone roughly is; undefined for `UTC` and names we cannot place. */
export function placeOfTimeZone(timeZone: string, standardOffsetMinutes: number): Place | undefined {
  const area = timeZone.split('/')[0] ?? '';
  let latitude: number | undefined = AREA_LATITUDE[area];
  if (area === 'America') latitude = SOUTH_AMERICA.test(timeZone) ? -20 : 38;
  if (area === 'Asia' && SOUTH_EAST_ASIA.test(timeZone)) latitude = 5;
  if (latitude === undefined) return undefined;
  return { latitude, longitude: Math.max(-180, Math.min(180, (standardOffsetMinutes / 60) * 15)) };
}

export function nearestRegion(regions: readonly Region[], place: Place | undefined): Region | undefined {
  if (!place || regions.length === 0) return undefined;
  return regions.reduce((best, r) => (greatCircleKm(place, r) < greatCircleKm(place, best) ? r : best));
}

/** The browser's own place: its time zone and its offset in January and July, whichever is smaller (no DST). */
export function browserPlace(): Place | undefined {
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone ?? '';
  const year = new Date().getFullYear();
  const offsets = [0, 6].map((month) => -new Date(year, month, 1).getTimezoneOffset());
  // Standard time is the smaller offset in the northern hemisphere and the larger in the south;
  // the difference is one hour, which moves the guess 15°: not enough to matter.
  return placeOfTimeZone(timeZone, Math.min(...offsets));
}

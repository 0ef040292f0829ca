import { z } from 'zod';

export const RegionIdSchema = z
  .string()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'expected a region id like us-east-1')
  .max(32);
export type RegionId = z.infer<typeof RegionIdSchema>;

export const RegionSchema = z.object({
  id: RegionIdSchema,
  name: z.string().min(1).max(80),
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
});
export type Region = z.infer<typeof RegionSchema>;

/** The regions a fresh install offers: one per continent the platform's first users sit on. */
export const DEFAULT_REGIONS: readonly Region[] = [
  { id: 'us-east-1', name: 'N. Virginia', latitude: 38.9, longitude: -77.4 },
  { id: 'eu-west-1', name: 'Ireland', latitude: 53.35, longitude: -6.26 },
  { id: 'ap-southeast-1', name: 'Singapore', latitude: 1.29, longitude: 103.85 },
];

export interface GeoPoint {
  latitude: number;
  longitude: number;
}

const EARTH_RADIUS_KM = 6371;

/** Great-circle distance (haversine), in kilometres: how "nearest region" is measured everywhere. */
export function greatCircleKm(a: GeoPoint, b: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

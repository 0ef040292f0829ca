import { z } from 'zod';
import { RegionSchema } from './regions.js';

/**
 * One region as the edge sees it: where it sits (for nearest-region choice) and where its
 * bucket answers. The edge reads objects by key only; it never lists a bucket.
 */
export const EdgeRegionSchema = RegionSchema.extend({
  endpoint: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  bucket: z.string().min(3).max(63),
  /** SigV4 signing region; S3-compatible servers such as s3rver ignore it. */
  s3Region: z.string().min(1).max(32).default('us-east-1'),
});
export type EdgeRegion = z.infer<typeof EdgeRegionSchema>;
export type EdgeRegionInput = z.input<typeof EdgeRegionSchema>;

export const EdgeRegionsSchema = z
  .array(EdgeRegionSchema)
  .min(1, 'expected at least one region')
  .refine(
    (regions) => new Set(regions.map((r) => r.id)).size === regions.length,
    'region ids must be unique',
  );

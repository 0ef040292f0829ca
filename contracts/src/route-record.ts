import { z } from 'zod';
import { DeploymentIdSchema, SlugSchema } from './ids.js';
import { RouteProtectionSchema } from './protection.js';
import { RegionIdSchema } from './regions.js';

/**
 * The KV record behind every hostname. The control plane writes it only after a deployment's
 * files are in every region, so flipping this one value is the whole deploy (or rollback).
 */
export const RouteRecordSchema = z.object({
  v: z.literal(1),
  kind: z.enum(['production', 'deployment', 'custom']),
  deploymentId: DeploymentIdSchema,
  projectSlug: SlugSchema,
  /** Regions holding the deployment, primary first. */
  regions: z.array(RegionIdSchema).min(1),
  updatedAt: z.iso.datetime(),
  /**
   * Present only on a protected host (docs/protected-previews.md): the edge then wants its signed
   * cookie before serving. Absent, the edge serves as it always has, with no extra work. An edge
   * older than this field drops it and serves the host publicly, so edges are upgraded first.
   */
  protection: RouteProtectionSchema.optional(),
});
export type RouteRecord = z.infer<typeof RouteRecordSchema>;

/** KV key for a hostname. Hostnames are case-insensitive and never carry a port in the key. */
export function routeKey(hostname: string): string {
  return `host:${hostname.toLowerCase().replace(/\.$/, '')}`;
}

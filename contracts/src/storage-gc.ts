import { z } from 'zod';
import { DeploymentIdSchema, SlugSchema } from './ids.js';
import { RegionIdSchema } from './regions.js';

/**
 * Retention and garbage collection (docs/retention.md): what a project keeps, and what a
 * collection run removed. Shared by the control plane and the dashboard.
 */

export const RETENTION_LIMITS = {
  retainReadyPerBranch: { min: 1, max: 1000 },
  previewMaxAgeDays: { min: 1, max: 3650 },
  buildCacheExpiryDays: { min: 1, max: 365 },
} as const;

const bounded = (name: keyof typeof RETENTION_LIMITS, what: string) => {
  const { min, max } = RETENTION_LIMITS[name];
  return z
    .number({ error: `expected a whole number of ${what}, or null for the platform's default` })
    .int(`expected a whole number of ${what}`)
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
};

/**
 * A project's retention settings. `null` (or absent on create) means the platform's default
 * (GC_RETAIN_READY_PER_BRANCH, GC_PREVIEW_MAX_AGE_DAYS, BUILD_CACHE_EXPIRY_DAYS).
 */
export const RetentionSettingsSchema = z.strictObject({
  /** Ready deployments kept per branch (production ones count as one lane); at least 1. */
  retainReadyPerBranch: bounded('retainReadyPerBranch', 'deployments').nullable(),
  /** Previews older than this are expired, unless a branch alias serves them. */
  previewMaxAgeDays: bounded('previewMaxAgeDays', 'days').nullable(),
  /** A build cache unused for this long is deleted. */
  buildCacheExpiryDays: bounded('buildCacheExpiryDays', 'days').nullable(),
});
export type RetentionSettings = z.infer<typeof RetentionSettingsSchema>;

/** A create or update: each field absent keeps (or on create: defaults) the setting. */
export const RetentionSettingsInputSchema = RetentionSettingsSchema.partial();
export type RetentionSettingsInput = z.infer<typeof RetentionSettingsInputSchema>;

/** The values in force, the platform's defaults filled in. */
export const EffectiveRetentionSchema = z.object({
  retainReadyPerBranch: z.number().int(),
  previewMaxAgeDays: z.number().int(),
  buildCacheExpiryDays: z.number().int(),
});
export type EffectiveRetention = z.infer<typeof EffectiveRetentionSchema>;

export const ExpiryReasonSchema = z.enum(['keep-last', 'preview-age', 'failed']);
export type ExpiryReason = z.infer<typeof ExpiryReasonSchema>;

/** `POST /gc/runs`. */
export const GcRunBodySchema = z.strictObject({
  /** Report what would be removed, remove nothing. */
  dryRun: z.boolean({ error: 'expected true or false' }).default(false),
});
export type GcRunBody = z.infer<typeof GcRunBodySchema>;

export const GcRegionReportSchema = z.object({
  region: RegionIdSchema,
  manifestsDeleted: z.number().int(),
  blobsDeleted: z.number().int(),
  blobBytesDeleted: z.number(),
  /** Unreferenced blobs left because they are younger than the grace period or claimed by a build. */
  blobsSpared: z.number().int(),
  blobsKept: z.number().int(),
  cacheObjectsDeleted: z.number().int(),
  cacheBytesDeleted: z.number(),
});
export type GcRegionReport = z.infer<typeof GcRegionReportSchema>;

export const GcReportSchema = z.object({
  expiredDeployments: z.array(
    z.object({ id: DeploymentIdSchema, projectSlug: SlugSchema, reason: ExpiryReasonSchema }),
  ),
  routeRecordsDeleted: z.number().int(),
  regions: z.array(GcRegionReportSchema),
});
export type GcReport = z.infer<typeof GcReportSchema>;

export const GcRunStatusSchema = z.enum(['running', 'completed', 'failed']);

export const GcRunViewSchema = z.object({
  id: z.string(),
  status: GcRunStatusSchema,
  dryRun: z.boolean(),
  trigger: z.enum(['schedule', 'api']),
  /** Times another control plane took the run over after its holder stopped renewing the lease. */
  resumes: z.number().int(),
  report: GcReportSchema,
  error: z.string().nullable(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
});
export type GcRunView = z.infer<typeof GcRunViewSchema>;

export const GcRunParamsSchema = z.object({ id: z.string().regex(/^gc_[a-z0-9]{1,40}$/) });

/** `GET /projects/:slug/storage`: what a project's deployments and build caches hold. */
export const ProjectStorageViewSchema = z.object({
  projectSlug: SlugSchema,
  retention: RetentionSettingsSchema,
  effective: EffectiveRetentionSchema,
  deployments: z.object({
    /** Ready and not expired: their files are stored. */
    live: z.number().int(),
    expired: z.number().int(),
    /** Bytes of the live deployments' files as built (shared blobs counted once per deployment). */
    liveBytes: z.number(),
  }),
  regions: z.array(
    z.object({
      region: RegionIdSchema,
      /** Distinct blobs the project's live manifests reference, and their bytes. */
      blobs: z.number().int(),
      blobBytes: z.number(),
      cacheObjects: z.number().int(),
      cacheBytes: z.number(),
    }),
  ),
});
export type ProjectStorageView = z.infer<typeof ProjectStorageViewSchema>;

import { z } from 'zod';
import { DeploymentIdSchema, SlugSchema } from './ids.js';
import { RegionIdSchema } from './regions.js';

export const DeploymentStatusSchema = z.enum(['queued', 'building', 'ready', 'error', 'cancelled']);
export type DeploymentStatus = z.infer<typeof DeploymentStatusSchema>;

export const DeploymentPhaseSchema = z.enum(['clone', 'install', 'build', 'upload', 'activate']);
export type DeploymentPhase = z.infer<typeof DeploymentPhaseSchema>;

export const TERMINAL_STATUSES: ReadonlySet<DeploymentStatus> = new Set(['ready', 'error', 'cancelled']);

/**
 * What the control plane queues on JetStream for a region's dispatcher. It carries no secrets:
 * the dispatcher reads the project's env from the database when it starts the build.
 */
export const BuildJobSchema = z.object({
  v: z.literal(1),
  deploymentId: DeploymentIdSchema,
  projectSlug: SlugSchema,
  region: RegionIdSchema,
  queuedAt: z.iso.datetime(),
});
export type BuildJob = z.infer<typeof BuildJobSchema>;

/** Where the build worker writes one region's output. Credentials are absent when a role grants access. */
export const StorageTargetSchema = z.object({
  region: RegionIdSchema,
  endpoint: z.url().optional(),
  bucket: z.string().min(3).max(63),
  forcePathStyle: z.boolean().default(true),
  accessKeyId: z.string().optional(),
  secretAccessKey: z.string().optional(),
});
export type StorageTarget = z.infer<typeof StorageTargetSchema>;

/** Everything one build needs, handed by a BuildRunner to the build worker process. */
export const BuildSpecSchema = z.object({
  v: z.literal(1),
  deploymentId: DeploymentIdSchema,
  projectSlug: SlugSchema,
  repoUrl: z.string().min(1),
  /** null: the remote's default branch */
  gitRef: z.string().nullable(),
  installCommand: z.string(),
  buildCommand: z.string(),
  /** null: detect it */
  outputDir: z.string().nullable(),
  rootDir: z.string().nullable(),
  /** The project's env, decrypted; only the sandboxed commands see it. */
  env: z.record(z.string(), z.string()),
  /** Primary first; output goes to every one. */
  storage: z.array(StorageTargetSchema).min(1),
  /**
   * Earlier ready deployments of the project, newest first. Their manifests tell the worker
   * which blobs a region already holds, so an unchanged redeploy checks nothing one by one.
   */
  previousDeployments: z.array(DeploymentIdSchema).max(10).default([]),
});
export type BuildSpec = z.infer<typeof BuildSpecSchema>;

export const BuildStatsSchema = z.object({
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  uploadedBytes: z.number().int().nonnegative(),
  phaseDurationsMs: z.partialRecord(DeploymentPhaseSchema, z.number().nonnegative()),
});
export type BuildStats = z.infer<typeof BuildStatsSchema>;

const eventBase = {
  deploymentId: DeploymentIdSchema,
  /** Gapless per deployment, from 1: lets the consumer drop replays. */
  seq: z.number().int().positive(),
  at: z.iso.datetime(),
};

/** What a build worker reports while it runs. The control plane applies them in seq order. */
export const BuildEventSchema = z.discriminatedUnion('type', [
  z.object({ ...eventBase, type: z.literal('started') }),
  z.object({ ...eventBase, type: z.literal('phase'), phase: DeploymentPhaseSchema }),
  z.object({ ...eventBase, type: z.literal('commit'), commitSha: z.string().regex(/^[0-9a-f]{40,64}$/) }),
  z.object({
    ...eventBase,
    type: z.literal('progress'),
    uploadedBytes: z.number().int().nonnegative(),
    totalBytes: z.number().int().nonnegative(),
  }),
  z.object({ ...eventBase, type: z.literal('heartbeat') }),
  z.object({
    ...eventBase,
    type: z.literal('uploaded'),
    outputDir: z.string(),
    stats: BuildStatsSchema,
  }),
  z.object({ ...eventBase, type: z.literal('failed'), error: z.string().max(8192) }),
]);
export type BuildEvent = z.infer<typeof BuildEventSchema>;

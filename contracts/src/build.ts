import { z } from 'zod';
import { DeploymentIdSchema, SlugSchema } from './ids.js';
import { RegionIdSchema } from './regions.js';

/**
 * skipped: nothing was built, on purpose (a push outside the watch paths, a skip marker, or the
 * project's ignored build step said so); its reason is the deployment's `skipReason`.
 */
export const DeploymentStatusSchema = z.enum([
  'queued',
  'building',
  'ready',
  'error',
  'cancelled',
  'skipped',
]);
export type DeploymentStatus = z.infer<typeof DeploymentStatusSchema>;

export const DeploymentPhaseSchema = z.enum(['clone', 'install', 'build', 'upload', 'activate']);
export type DeploymentPhase = z.infer<typeof DeploymentPhaseSchema>;

export const TERMINAL_STATUSES: ReadonlySet<DeploymentStatus> = new Set([
  'ready',
  'error',
  'cancelled',
  'skipped',
]);

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

/**
 * One region's bucket as the control plane reaches it (its own configuration, with credentials
 * when a role does not grant access). Builds never receive this: they get upload and cache grants
 * (presigned requests) instead, see build-session.ts.
 */
export const StorageTargetSchema = z.object({
  region: RegionIdSchema,
  endpoint: z.url().optional(),
  bucket: z.string().min(3).max(63),
  forcePathStyle: z.boolean().default(true),
  accessKeyId: z.string().optional(),
  secretAccessKey: z.string().optional(),
});
export type StorageTarget = z.infer<typeof StorageTargetSchema>;

/**
 * A region a build's output goes to. Only the region: no endpoint, bucket or credentials. The
 * build writes through presigned grants the control plane issues (build-session.ts).
 */
export const BuildRegionSchema = z.object({ region: RegionIdSchema });
export type BuildRegion = z.infer<typeof BuildRegionSchema>;

/**
 * The build cache's controls. `enabled: false` is the project setting "cache off" (nothing is
 * restored or saved); `restore: false` is "redeploy without cache" (nothing is restored, and a
 * fresh cache is saved after a successful build, so the next build starts clean).
 */
export const BuildCacheOptionsSchema = z.object({
  enabled: z.boolean().default(true),
  restore: z.boolean().default(true),
});
export type BuildCacheOptions = z.infer<typeof BuildCacheOptionsSchema>;

/**
 * How the clone of a private repository authenticates (docs/git-deploys.md). Only the worker's
 * clone sees it, through a file outside the sandbox that is gone before any user command runs.
 */
export const GitCloneCredentialSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('token'),
    username: z.string().min(1).max(256),
    token: z.string().min(1).max(1024),
  }),
  z.object({
    kind: z.literal('ssh'),
    /** The deploy key, OpenSSH format. */
    privateKey: z.string().min(1).max(16_384),
    /** known_hosts lines pinning the server's host keys; a key that differs fails the clone. */
    knownHosts: z.string().min(1).max(65_536),
  }),
]);
export type GitCloneCredential = z.infer<typeof GitCloneCredentialSchema>;

/**
 * Where a build's source comes from when it is not the repository: an archive the CLI uploaded
 * (docs/cli.md, "A source deploy"), fetched with a presigned GET the control plane signed at
 * bootstrap. The worker checks its sha256 and size before extracting it into the checkout.
 */
export const BuildSourceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('archive'),
    get: z.object({
      method: z.literal('GET'),
      url: z.url(),
      headers: z.record(z.string(), z.string()),
    }),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest'),
    size: z.number().int().positive(),
  }),
]);
export type BuildSource = z.infer<typeof BuildSourceSchema>;

/** Everything one build needs: what the worker receives when it exchanges its bootstrap token. */
export const BuildSpecSchema = z
  .object({
    v: z.literal(1),
    deploymentId: DeploymentIdSchema,
    projectSlug: SlugSchema,
    /** The repository to clone; '' only with `source` (a CLI project may have none). */
    repoUrl: z.string(),
    /** null: the remote's default branch */
    gitRef: z.string().nullable(),
    /** null: the detected preset's command; '': skip the phase. */
    installCommand: z.string().nullable(),
    /** null: the detected preset's command; '': skip the phase. */
    buildCommand: z.string().nullable(),
    /** null: the detected preset's output directory, else the first candidate found after the build */
    outputDir: z.string().nullable(),
    rootDir: z.string().nullable(),
    /** The project's env, decrypted; only the sandboxed commands see it. */
    env: z.record(z.string(), z.string()),
    /**
     * The deployment's regions, primary first; output goes to every one, and the build cache lives
     * in the primary. Extra keys (a control plane's own storage settings) are stripped on parse.
     */
    storage: z.array(BuildRegionSchema).min(1),
    /**
     * Earlier ready deployments of the project, newest first. Their manifests tell the worker
     * which blobs a region already holds, so an unchanged redeploy checks nothing one by one.
     */
    previousDeployments: z.array(DeploymentIdSchema).max(10).default([]),
    /**
     * The branch this build belongs to, which scopes its build cache. null: gitRef when it is set,
     * else the production branch.
     */
    branch: z.string().max(255).nullable().optional(),
    /** The project's production branch: the cache's last fallback. null: the default branch. */
    productionBranch: z.string().max(255).nullable().optional(),
    /** Absent: the cache is on. */
    cache: BuildCacheOptionsSchema.optional(),
    /** Absent or null: a public repository. */
    gitCredential: GitCloneCredentialSchema.nullable().optional(),
    /**
     * The project's "ignored build step", run in the sandbox right after the clone: exit 0 skips
     * the build, exit 1 builds, anything else fails it. Absent or null: none.
     */
    ignoreCommand: z.string().nullable().optional(),
    /**
     * The pushed branch, for a deployment a push, pull request or deploy hook made (given to the
     * ignored build step as DEPLOYSPHERE_GIT_BRANCH). Absent: not known.
     */
    gitBranch: z.string().max(255).nullable().optional(),
    /** Absent or null: clone repoUrl at gitRef. An archive: the CLI's upload instead of a clone. */
    source: BuildSourceSchema.nullable().optional(),
  })
  .refine((s) => s.repoUrl !== '' || s.source, {
    message: 'expected a repository URL (or a source archive)',
    path: ['repoUrl'],
  });
export type BuildSpec = z.infer<typeof BuildSpecSchema>;

/** The framework preset a build used, and what it chose. Commands are null when skipped. */
export const BuildPresetReportSchema = z.object({
  /** e.g. 'vite', 'astro', 'docusaurus', 'static', 'none', 'custom' */
  id: z.string(),
  name: z.string(),
  /** Why, e.g. "vite: dependency vite, vite.config.ts" */
  reason: z.string(),
  packageManager: z.enum(['npm', 'pnpm', 'yarn-classic', 'yarn-berry', 'bun']).nullable(),
  /** The commands that ran ('' when the phase was skipped), and where each came from. */
  installCommand: z.string(),
  buildCommand: z.string(),
  installFrom: z.enum(['project', 'preset']),
  buildFrom: z.enum(['project', 'preset']),
  outputDir: z.string().nullable(),
  /** The Node version the project asked for, if any, and whether it was honoured. */
  nodeVersionRequested: z.string().nullable().optional(),
  nodeVersion: z.string().optional(),
});
export type BuildPresetReport = z.infer<typeof BuildPresetReportSchema>;

export const BuildCacheReportSchema = z.object({
  /** 'exact': node_modules too; 'partial': package-manager and framework caches only. */
  restored: z.enum(['exact', 'partial', 'none']),
  /** Why nothing was restored, when it was not. */
  skipped: z.enum(['disabled', 'without-cache', 'miss', 'corrupt', 'error']).optional(),
  /** Which archive was restored: its key, and how it was found. */
  key: z.string().optional(),
  source: z.enum(['lockfile', 'branch', 'production-branch']).optional(),
  restoredBytes: z.number().int().nonnegative().optional(),
  /** The key a save after this build will write, when it saves. */
  saveKey: z.string().optional(),
});
export type BuildCacheReport = z.infer<typeof BuildCacheReportSchema>;

/**
 * What one build's processes used. Locally the control plane samples the worker's process tree;
 * on ECS the worker reads its task's metadata endpoint (the task's cgroup), since nothing outside
 * the task can see it (docs/observability.md, "Builds").
 */
export const BuildResourcesSchema = z.object({
  /** User + system CPU seconds of the whole build, every process included. */
  cpuSeconds: z.number().nonnegative(),
  /** The highest resident memory of the whole build. */
  peakMemoryBytes: z.number().int().nonnegative(),
  /** Where the figures come from. */
  source: z.enum(['process-accounting', 'task-metadata']),
});
export type BuildResources = z.infer<typeof BuildResourcesSchema>;

export const BuildStatsSchema = z.object({
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  uploadedBytes: z.number().int().nonnegative(),
  phaseDurationsMs: z.partialRecord(DeploymentPhaseSchema, z.number().nonnegative()),
  /** What the worker detected and ran (absent from workers older than presets). */
  preset: BuildPresetReportSchema.optional(),
  /** What the build cache did (absent from workers older than the cache). */
  cache: BuildCacheReportSchema.optional(),
  /** Bytes the clone fetched (the size of .git after the fetch). */
  cloneBytes: z.number().int().nonnegative().optional(),
  /** CPU and memory the build used, when its worker could read them (on ECS). */
  resources: BuildResourcesSchema.optional(),
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
  /** The ignored build step exited 0: nothing was built or uploaded, on purpose. */
  z.object({
    ...eventBase,
    type: z.literal('skipped'),
    reason: z.string().max(1024),
    stats: BuildStatsSchema.optional(),
  }),
  z.object({
    ...eventBase,
    type: z.literal('failed'),
    error: z.string().max(8192),
    /** What was known when it failed: the preset, the cache, phase durations (newer workers). */
    stats: BuildStatsSchema.optional(),
  }),
]);
export type BuildEvent = z.infer<typeof BuildEventSchema>;

/**
 * The branches a build's cache is scoped by: its own (spec.branch, else gitRef, else the
 * production branch) and the production branch, the last fallback. The worker and the control
 * plane's cache grants both use this, so a build can write only its own branch's index.
 */
export function cacheBranches(spec: Pick<BuildSpec, 'branch' | 'gitRef' | 'productionBranch'>): {
  branch: string;
  productionBranch: string;
} {
  const productionBranch = spec.productionBranch ?? '(default branch)';
  return { branch: spec.branch ?? spec.gitRef ?? productionBranch, productionBranch };
}

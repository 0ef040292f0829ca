import { z } from 'zod';
import {
  BuildCacheReportSchema,
  BuildPresetReportSchema,
  BuildStatsSchema,
  DeploymentPhaseSchema,
  DeploymentStatusSchema,
} from './build.js';
import { GitRefSchema } from './git-ref.js';
import { DeploymentTargetSchema } from './git-deploys.js';
import { requiredOr } from './errors.js';
import { DeploymentIdSchema, SlugSchema } from './ids.js';
import { RegionIdSchema } from './regions.js';
import { ProtectionSettingsInputSchema, ProtectionSettingsSchema } from './protection.js';
import { ExpiryReasonSchema, RetentionSettingsInputSchema, RetentionSettingsSchema } from './storage-gc.js';

/** Every `/api/v1` body and response, shared by the control plane and the dashboard. */

export const COMMAND_MAX_BYTES = 1024;
export const ENV_VALUE_MAX_BYTES = 8 * 1024;
export const ENV_MAX_KEYS = 100;
export const MAX_REGIONS = 10;

const byteLength = (s: string) => new TextEncoder().encode(s).length;

const commandString = (error: string) =>
  z
    .string({ error: requiredOr(error) })
    .trim()
    .refine((s) => byteLength(s) <= COMMAND_MAX_BYTES, `must be at most ${COMMAND_MAX_BYTES} bytes`)
    .refine((s) => !s.includes('\0'), 'must not contain NUL')
    .refine((s) => !/[\r\n]/.test(s), 'must be a single line (chain commands with &&)');

/** A command that must be there. */
export const CommandSchema = commandString('expected a string').refine(
  (s) => s.length > 0,
  'must not be empty',
);

/**
 * A project's install or build command: a command; `''` (or only spaces) to skip the phase; or
 * `null` to run the detected preset's command.
 */
export const ProjectCommandSchema = commandString(
  'expected a command, "" to skip the phase, or null for the detected preset\'s command',
).nullable();

/**
 * The project's "ignored build step" (docs/git-deploys.md): a command run in the build sandbox
 * after the clone; exit 0 skips the build. `null` (or `''`) means none.
 */
export const IgnoreCommandSchema = commandString('expected a command, or null for none')
  .transform((s) => (s === '' ? null : s))
  .nullable();

/** A directory inside the repository: relative, no `..`, no backslashes. */
export const RelativeDirSchema = z
  .string({ error: requiredOr('expected a string') })
  .trim()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .refine((p) => !p.startsWith('/') && !/^[a-zA-Z]:/.test(p), 'must be a relative path')
  .refine((p) => !p.includes('\\') && !p.includes('\0'), 'must use forward slashes')
  .refine((p) => p.split('/').every((s) => s !== '..'), 'must not contain ".."')
  .transform((p) => p.replace(/^\.\/+/, '').replace(/\/+$/, '') || '.');

/**
 * `https://host/path` or scp-style `git@host:path`; `file://` is syntactically accepted here and
 * allowed or refused by policy (ALLOW_LOCAL_REPOS), together with loopback and private hosts.
 */
export const RepoUrlSchema = z
  .string({ error: requiredOr('expected a string') })
  .trim()
  .min(1, 'must not be empty')
  .max(2048, 'must be at most 2048 characters')
  .refine((u) => !/[\s\0]/.test(u), 'must not contain whitespace')
  .refine((u) => !u.startsWith('-'), 'must not start with "-"')
  .refine(
    (u) => parseRepoUrl(u) !== undefined,
    'expected an https:// URL or git@host:path (file:// only where local repos are allowed)',
  );

/** http: only where local repos are allowed (a token would travel in clear). */
export type RepoUrlKind = 'https' | 'ssh' | 'file' | 'http';

/** The URL's kind and host, or undefined when it is none of the accepted shapes. */
export function parseRepoUrl(url: string): { kind: RepoUrlKind; host: string } | undefined {
  const scp = /^[a-zA-Z0-9._-]+@([a-zA-Z0-9.-]+):(?!\/\/)[^\s]+$/.exec(url);
  if (scp) return { kind: 'ssh', host: scp[1]!.toLowerCase() };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol === 'https:' && parsed.hostname && parsed.pathname.length > 1) {
    if (parsed.username || parsed.password) return undefined; // credentials never go in a URL
    return { kind: 'https', host: parsed.hostname.toLowerCase() };
  }
  if (parsed.protocol === 'http:' && parsed.hostname && parsed.pathname.length > 1) {
    if (parsed.username || parsed.password) return undefined;
    return { kind: 'http', host: parsed.hostname.toLowerCase() };
  }
  // ssh://[user@]host[:port]/path: the form that can name a port. A user, never a password.
  if (parsed.protocol === 'ssh:' && parsed.hostname && parsed.pathname.length > 1) {
    if (parsed.password) return undefined;
    return { kind: 'ssh', host: parsed.hostname.toLowerCase() };
  }
  if (parsed.protocol === 'file:' && parsed.pathname.length > 1 && parsed.host === '') {
    return { kind: 'file', host: '' };
  }
  return undefined;
}

export const EnvKeySchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env keys must match [A-Za-z_][A-Za-z0-9_]*')
  .max(128, 'env keys must be at most 128 characters');

export const EnvValueSchema = z
  .string({ error: 'env values must be strings' })
  .refine(
    (v) => byteLength(v) <= ENV_VALUE_MAX_BYTES,
    `env values must be at most ${ENV_VALUE_MAX_BYTES} bytes`,
  )
  .refine((v) => !v.includes('\0'), 'env values must not contain NUL');

const envRecord = <V extends z.ZodType>(value: V) =>
  z
    .record(EnvKeySchema, value)
    .refine((env) => Object.keys(env).length <= ENV_MAX_KEYS, `at most ${ENV_MAX_KEYS} variables`);

export const RegionListSchema = z
  .array(RegionIdSchema, { error: requiredOr('expected a list of region ids, primary first') })
  .min(1, 'pick at least one region')
  .max(MAX_REGIONS, `at most ${MAX_REGIONS} regions`)
  .refine((r) => new Set(r).size === r.length, 'regions must not repeat');

export const CreateProjectBodySchema = z.strictObject({
  slug: SlugSchema,
  repoUrl: RepoUrlSchema,
  /** The team (slug) that owns it; absent: the caller's default team (docs/accounts.md). */
  team: SlugSchema.optional(),
  gitRef: GitRefSchema.optional(),
  /** Absent or null: the detected preset's command; '': skip the phase. */
  installCommand: ProjectCommandSchema.optional(),
  /** Absent or null: the detected preset's command; '': skip the phase. */
  buildCommand: ProjectCommandSchema.optional(),
  /** Absent or null: none; exit 0 skips a build (docs/git-deploys.md). */
  ignoreCommand: IgnoreCommandSchema.optional(),
  outputDir: RelativeDirSchema.optional(),
  rootDir: RelativeDirSchema.optional(),
  regions: RegionListSchema,
  env: envRecord(EnvValueSchema).optional(),
  /** Absent: on. */
  buildCacheEnabled: z.boolean({ error: 'expected true or false' }).optional(),
  /** Absent fields: the platform's defaults (docs/retention.md). */
  retention: RetentionSettingsInputSchema.optional(),
  /** Absent: public (docs/protected-previews.md). */
  protection: ProtectionSettingsInputSchema.optional(),
});
export type CreateProjectBody = z.infer<typeof CreateProjectBodySchema>;

/**
 * `null` resets a field to its default (for the commands: the detected preset's); in `env`,
 * `null` removes that variable.
 */
export const UpdateProjectBodySchema = z.strictObject({
  repoUrl: RepoUrlSchema.optional(),
  gitRef: GitRefSchema.nullable().optional(),
  installCommand: ProjectCommandSchema.optional(),
  buildCommand: ProjectCommandSchema.optional(),
  ignoreCommand: IgnoreCommandSchema.optional(),
  outputDir: RelativeDirSchema.nullable().optional(),
  rootDir: RelativeDirSchema.nullable().optional(),
  regions: RegionListSchema.optional(),
  env: envRecord(EnvValueSchema.nullable()).optional(),
  buildCacheEnabled: z.boolean({ error: 'expected true or false' }).optional(),
  /** Each field absent keeps its setting; null returns it to the platform's default. */
  retention: RetentionSettingsInputSchema.optional(),
  /** Each field absent keeps its setting; a new password signs every visitor out. */
  protection: ProtectionSettingsInputSchema.optional(),
});
export type UpdateProjectBody = z.infer<typeof UpdateProjectBodySchema>;

export const CreateDeploymentBodySchema = z.strictObject({
  gitRef: GitRefSchema.optional(),
  /** "Redeploy without cache": restore nothing; a fresh cache is saved after a successful build. */
  withoutCache: z.boolean({ error: 'expected true or false' }).optional(),
});
export type CreateDeploymentBody = z.infer<typeof CreateDeploymentBodySchema>;

/** The one-form deploy: creates the project when it is new, then deploys it. */
export const QuickDeployBodySchema = z.strictObject({
  repoUrl: RepoUrlSchema,
  /** For a new project: the team (slug) that owns it; absent: the caller's default team. */
  team: SlugSchema.optional(),
  /**
   * Absent: a new project uses the detected preset's command, an existing one keeps its own;
   * null: the detected preset's; '': skip the phase.
   */
  installCommand: ProjectCommandSchema.optional(),
  buildCommand: ProjectCommandSchema.optional(),
  slug: SlugSchema,
  /**
   * One region, or several with the primary first. Absent: a new project gets the platform's
   * first region, an existing one keeps its regions.
   */
  region: z
    .union([RegionIdSchema, RegionListSchema], {
      error: requiredOr('expected a region id or a list of them'),
    })
    .optional(),
  outputDir: RelativeDirSchema.optional(),
  gitRef: GitRefSchema.optional(),
});
export type QuickDeployBody = z.infer<typeof QuickDeployBodySchema>;

/** A custom domain: a lowercase DNS name of at least two labels (no wildcards, no ports). */
export const HostnameSchema = z
  .string({ error: requiredOr('expected a hostname') })
  .trim()
  .toLowerCase()
  .max(253, 'must be at most 253 characters')
  .regex(
    /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
    'expected a domain name like www.example.com',
  );

export const AddDomainBodySchema = z.strictObject({ hostname: HostnameSchema });
export type AddDomainBody = z.infer<typeof AddDomainBodySchema>;

export const PromoteBodySchema = z.strictObject({ deploymentId: DeploymentIdSchema });
export type PromoteBody = z.infer<typeof PromoteBodySchema>;

/**
 * Path parameters. The control plane answers a malformed one with 404, as it does an unknown one:
 * to a client both name nothing (a malformed id in a body is a 400 naming the field).
 */
export const ProjectParamsSchema = z.object({ slug: SlugSchema });
export const DeploymentParamsSchema = z.object({ id: DeploymentIdSchema });
export const DomainParamsSchema = z.object({ slug: SlugSchema, hostname: HostnameSchema });

/** `GET /projects?slug=`: with `slug`, `[]` or that one project (an availability check, never a 404). */
export const ProjectsQuerySchema = z.strictObject({ slug: z.string().max(64).optional() });

/** `GET /projects/:slug/deployments?limit=&before=`: newest first; `before` is the last id of the previous page. */
export const DeploymentListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: DeploymentIdSchema.optional(),
  /** Only production or only preview deployments. */
  target: DeploymentTargetSchema.optional(),
  /** Only deployments a push to this branch made. */
  branch: z.string().min(1).max(255).optional(),
});
export type DeploymentListQuery = z.infer<typeof DeploymentListQuerySchema>;

export const ProjectViewSchema = z.object({
  id: z.string(),
  slug: SlugSchema,
  repoUrl: z.string(),
  gitRef: z.string().nullable(),
  /** null: the detected preset's command; '': the phase is skipped */
  installCommand: z.string().nullable(),
  /** null: the detected preset's command; '': the phase is skipped */
  buildCommand: z.string().nullable(),
  /** The ignored build step: exit 0 skips a build; null: none. Absent from older control planes. */
  ignoreCommand: z.string().nullable().optional(),
  outputDir: z.string().nullable(),
  rootDir: z.string().nullable(),
  regions: z.array(RegionIdSchema),
  /** false: builds neither restore nor save a build cache. */
  buildCacheEnabled: z.boolean(),
  /** What garbage collection keeps; null: the platform's default (docs/retention.md). */
  retention: RetentionSettingsSchema,
  /** Who may open its preview (and optionally production) hosts; absent from older control planes. */
  protection: ProtectionSettingsSchema.optional(),
  /** Names only: values are write-only. */
  envKeys: z.array(z.string()),
  productionDeploymentId: z.string().nullable(),
  url: z.string(),
  /** Custom domains that serve the production deployment. */
  domains: z.array(z.string()),
  /** The newest deployment, for list views. */
  latestDeployment: z
    .object({ id: DeploymentIdSchema, status: DeploymentStatusSchema, createdAt: z.iso.datetime() })
    .nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type ProjectView = z.infer<typeof ProjectViewSchema>;

/** Where a deployment came from: built from the project's repository, or a folder the CLI uploaded. */
export const DeploymentSourceSchema = z.enum(['git', 'cli']);
export type DeploymentSource = z.infer<typeof DeploymentSourceSchema>;

export const DeploymentViewSchema = z.object({
  id: DeploymentIdSchema,
  projectSlug: SlugSchema,
  status: DeploymentStatusSchema,
  phase: DeploymentPhaseSchema.nullable(),
  /** What the build checks out: a ref, or for a push the pushed commit's SHA. */
  gitRef: z.string().nullable(),
  regions: z.array(RegionIdSchema),
  commitSha: z.string().nullable(),
  /** production deployments may become the project's production; previews never do. */
  target: DeploymentTargetSchema,
  /** git, or cli for a folder the CLI uploaded (docs/cli.md); absent from older control planes: git. */
  source: DeploymentSourceSchema.optional(),
  /** The pushed branch, for a deployment a push made. */
  branch: z.string().nullable(),
  /** The pushed head commit's message and author, as the provider sent them. */
  commitMessage: z.string().nullable(),
  commitAuthor: z.string().nullable(),
  /** The pull (merge) request whose head this deployment built; absent from older control planes. */
  pullRequest: z.number().int().nullable().optional(),
  /** A preview's branch alias URL (`<slug>-git-<branch>`), which follows the branch's newest ready preview. */
  branchUrl: z.string().nullable(),
  /** The project's production URL. */
  url: z.string(),
  /** This deployment's permanent URL. */
  deploymentUrl: z.string(),
  isProduction: z.boolean(),
  error: z.string().nullable(),
  /** Why a `skipped` deployment built nothing; absent from older control planes. */
  skipReason: z.string().nullable().optional(),
  stats: BuildStatsSchema.omit({ preset: true, cache: true, cloneBytes: true, resources: true }).extend({
    totalBytes: z.number().int().nonnegative().optional(),
  }),
  /** The framework preset the build detected, why, and the commands that ran; null until known. */
  preset: BuildPresetReportSchema.nullable(),
  /** What the build cache restored (exact, partial or none, with the key, source and size). */
  cache: BuildCacheReportSchema.nullable(),
  /** Bytes the clone fetched; null until known. */
  cloneBytes: z.number().int().nonnegative().nullable(),
  /** Deployed with "Redeploy without cache". */
  withoutCache: z.boolean(),
  /** Where the build ran: a local process or an ECS task (with its ARN); null until started. */
  runner: z
    .object({
      kind: z.enum(['local', 'ecs']),
      region: RegionIdSchema,
      taskArn: z.string().optional(),
      /** 2 after a Spot interruption restarted the build on on-demand Fargate. */
      attempt: z.number().int().positive(),
    })
    .nullable(),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  /**
   * When retention removed its files (docs/retention.md): its own URL no longer serves and it
   * cannot be promoted; its record and logs stay. Absent from older control planes.
   */
  expiry: z.object({ at: z.iso.datetime(), reason: ExpiryReasonSchema }).nullable().optional(),
});
export type DeploymentView = z.infer<typeof DeploymentViewSchema>;

/** Published on core NATS after every status or phase change, for live views. */
export const DeploymentStatusEventSchema = z.object({
  deploymentId: DeploymentIdSchema,
  status: DeploymentStatusSchema,
  phase: DeploymentPhaseSchema.nullable(),
  error: z.string().nullable(),
  at: z.iso.datetime(),
});
export type DeploymentStatusEvent = z.infer<typeof DeploymentStatusEventSchema>;

/** How far back the traffic chart looks, and the bucket size it uses for each window. */
export const TRAFFIC_WINDOWS = {
  '1h': { seconds: 3_600, stepSeconds: 60 },
  '6h': { seconds: 21_600, stepSeconds: 300 },
  '24h': { seconds: 86_400, stepSeconds: 900 },
  '7d': { seconds: 604_800, stepSeconds: 3_600 },
} as const;
export type TrafficWindow = keyof typeof TRAFFIC_WINDOWS;

export const TrafficQuerySchema = z.strictObject({
  window: z
    .enum(Object.keys(TRAFFIC_WINDOWS) as [TrafficWindow, ...TrafficWindow[]], {
      error: `expected one of ${Object.keys(TRAFFIC_WINDOWS).join(', ')}`,
    })
    .default('6h'),
});

/** A project's edge traffic per region and bucket, from the edge's metric batches. */
export const TrafficViewSchema = z.object({
  window: z.enum(Object.keys(TRAFFIC_WINDOWS) as [TrafficWindow, ...TrafficWindow[]]),
  stepSeconds: z.number().int().positive(),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  regions: z.array(z.string()),
  points: z.array(
    z.object({
      t: z.iso.datetime(),
      region: z.string(),
      requests: z.number().int().nonnegative(),
      clientErrors: z.number().int().nonnegative(),
      serverErrors: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
    }),
  ),
});
export type TrafficView = z.infer<typeof TrafficViewSchema>;

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  BuildSpecSchema,
  ConfigError,
  DeploymentIdSchema,
  envBoolean,
  envInt,
  envRequiredUrl,
  envUrl,
  parseConfig,
  type BuildSpec,
} from '@deploysphere/contracts';

/** Limits and knobs for one build: what runBuild needs besides the spec. */
export interface BuildSettings {
  /** Builds get `<workDir>/<deploymentId>/`, removed afterwards unless keepWorkDir. */
  workDir: string;
  /** Wall clock for clone + install + build together. */
  timeoutMs: number;
  /** RLIMIT_AS per build process. Node itself needs about 1 GB of address space. */
  memoryMb: number;
  /** RLIMIT_CPU per build process. */
  cpuSeconds: number;
  maxOutputBytes: number;
  maxOutputFiles: number;
  /** Run without bubblewrap when it is missing (clean env and rlimits only). Never in production. */
  allowUnsandboxed: boolean;
  /**
   * How user commands are isolated: `bwrap` (namespaces, egress proxy; the default) or
   * `unprivileged` (another uid through setpriv, no new privileges, no capabilities: for Fargate,
   * where bubblewrap cannot run). See docs/build-isolation.md.
   */
  sandbox: SandboxKind;
  /** Explicit bwrap path; otherwise found on PATH. */
  bwrapPath?: string | undefined;
  /** Requests in flight per region while uploading. */
  uploadConcurrency: number;
  heartbeatIntervalMs: number;
  keepWorkDir: boolean;
  /** Largest build-cache archive set (compressed) a build may save; a larger one is not saved. */
  cacheMaxBytes: number;
  /** A cache unused for this many days is ignored (and may be deleted by a bucket lifecycle rule). */
  cacheExpiryDays: number;
}

export const SANDBOX_KINDS = ['bwrap', 'unprivileged'] as const;
export type SandboxKind = (typeof SANDBOX_KINDS)[number];

export const DEFAULT_BUILD_SETTINGS: BuildSettings = {
  workDir: join(tmpdir(), 'deploysphere-builds'),
  timeoutMs: 15 * 60_000,
  // Address space, not RSS: a zero-config Docusaurus 3 build failed under both 4096 and 8192 with
  // "Failed to reserve virtual memory for CodeRange" (V8 reserves far more than it touches). The
  // real memory bound is the worker's task or container limit.
  memoryMb: 16384,
  cpuSeconds: 30 * 60,
  maxOutputBytes: 1024 * 1024 * 1024,
  maxOutputFiles: 50_000,
  allowUnsandboxed: false,
  sandbox: 'bwrap',
  uploadConcurrency: 16,
  heartbeatIntervalMs: 5_000,
  keepWorkDir: false,
  cacheMaxBytes: 2 * 1024 * 1024 * 1024,
  cacheExpiryDays: 7,
};

const d = DEFAULT_BUILD_SETTINGS;

/** A spec as JSON (tests, tools): its errors name the field, never echo the value. */
export function parseBuildSpecJson(raw: string | undefined, variable = 'DEPLOYSPHERE_BUILD_SPEC'): BuildSpec {
  if (raw === undefined || raw === '') {
    throw new ConfigError(`  ${variable}: is required (the build spec as JSON)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError(`  ${variable}: expected JSON`);
  }
  const parsed = BuildSpecSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `  ${variable}: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ConfigError(lines.join('\n'));
  }
  return parsed.data;
}

const emptyIsUnset = (v: unknown) => (v === '' ? undefined : v);

/**
 * How each setting's variable is read, with DEFAULT_BUILD_SETTINGS for what is unset. The control
 * plane reuses the limits' entries for its own variables of the same names.
 */
export const buildSettingsEnvShape = {
  WORK_DIR: z.string().min(1).default(d.workDir),
  BUILD_TIMEOUT_MS: envInt(d.timeoutMs, 1000),
  BUILD_MEMORY_MB: envInt(d.memoryMb, 1024),
  BUILD_CPU_SECONDS: envInt(d.cpuSeconds, 1),
  MAX_OUTPUT_BYTES: envInt(d.maxOutputBytes, 1),
  MAX_OUTPUT_FILES: envInt(d.maxOutputFiles, 1),
  ALLOW_UNSANDBOXED_BUILDS: envBoolean(d.allowUnsandboxed),
  BUILD_SANDBOX: z.preprocess(
    emptyIsUnset,
    z.enum(SANDBOX_KINDS, { error: 'expected bwrap or unprivileged' }).default(d.sandbox),
  ),
  BWRAP_PATH: z.preprocess(emptyIsUnset, z.string().optional()),
  UPLOAD_CONCURRENCY: envInt(d.uploadConcurrency, 1),
  HEARTBEAT_INTERVAL_MS: envInt(d.heartbeatIntervalMs, 100),
  KEEP_WORK_DIR: envBoolean(d.keepWorkDir),
  BUILD_CACHE_MAX_BYTES: envInt(d.cacheMaxBytes, 0),
  BUILD_CACHE_EXPIRY_DAYS: envInt(d.cacheExpiryDays, 1),
};

/** Each setting's variable: what the worker reads (below) and what runners write (settingsToEnv). */
export const BUILD_SETTING_VARIABLES = {
  workDir: 'WORK_DIR',
  timeoutMs: 'BUILD_TIMEOUT_MS',
  memoryMb: 'BUILD_MEMORY_MB',
  cpuSeconds: 'BUILD_CPU_SECONDS',
  maxOutputBytes: 'MAX_OUTPUT_BYTES',
  maxOutputFiles: 'MAX_OUTPUT_FILES',
  allowUnsandboxed: 'ALLOW_UNSANDBOXED_BUILDS',
  sandbox: 'BUILD_SANDBOX',
  bwrapPath: 'BWRAP_PATH',
  uploadConcurrency: 'UPLOAD_CONCURRENCY',
  heartbeatIntervalMs: 'HEARTBEAT_INTERVAL_MS',
  keepWorkDir: 'KEEP_WORK_DIR',
  cacheMaxBytes: 'BUILD_CACHE_MAX_BYTES',
  cacheExpiryDays: 'BUILD_CACHE_EXPIRY_DAYS',
} as const satisfies Record<keyof BuildSettings, keyof typeof buildSettingsEnvShape>;

type BuildSettingsEnv = z.output<z.ZodObject<typeof buildSettingsEnvShape>>;

function settingsFrom(e: BuildSettingsEnv): BuildSettings {
  return {
    workDir: e.WORK_DIR,
    timeoutMs: e.BUILD_TIMEOUT_MS,
    memoryMb: e.BUILD_MEMORY_MB,
    cpuSeconds: e.BUILD_CPU_SECONDS,
    maxOutputBytes: e.MAX_OUTPUT_BYTES,
    maxOutputFiles: e.MAX_OUTPUT_FILES,
    allowUnsandboxed: e.ALLOW_UNSANDBOXED_BUILDS,
    sandbox: e.BUILD_SANDBOX,
    bwrapPath: e.BWRAP_PATH,
    uploadConcurrency: e.UPLOAD_CONCURRENCY,
    heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
    keepWorkDir: e.KEEP_WORK_DIR,
    cacheMaxBytes: e.BUILD_CACHE_MAX_BYTES,
    cacheExpiryDays: e.BUILD_CACHE_EXPIRY_DAYS,
  };
}

/** The build settings alone, from an environment (settingsToEnv's inverse). */
export const BuildSettingsEnvSchema = z.object(buildSettingsEnvShape).transform(settingsFrom);

/**
 * The variables that give a worker these settings; what is left out takes the worker's default.
 * The inverse of BuildSettingsEnvSchema, so a runner never spells a variable name itself.
 */
export function settingsToEnv(settings: Partial<BuildSettings>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, variable] of Object.entries(BUILD_SETTING_VARIABLES)) {
    const value = settings[key as keyof BuildSettings];
    if (value !== undefined) env[variable] = String(value);
  }
  return env;
}

/**
 * What a runner hands one build, and nothing more: the deployment id, where NATS and the control
 * plane are, and a one-time bootstrap token, which the worker exchanges for its spec, its NATS
 * user and its build token before it runs anything (build-sessions/ in the control plane). On ECS
 * the settings come from the task definition, the rest from the container overrides.
 */
export interface WorkerLaunch {
  deploymentId: string;
  natsUrl?: string | undefined;
  controlPlaneUrl: string;
  bootstrapToken: string;
  natsTlsCaFile?: string | undefined;
  settings: Partial<BuildSettings>;
}

/**
 * The worker's whole environment for one build, the inverse of loadWorkerConfig. The bootstrap
 * token travels in the environment, never argv (visible in ps); the worker drops it from its own
 * environment before anything else, and it works once.
 */
export function workerEnv(launch: WorkerLaunch): Record<string, string> {
  return {
    DEPLOYMENT_ID: launch.deploymentId,
    ...(launch.natsUrl ? { NATS_URL: launch.natsUrl } : {}),
    CONTROL_PLANE_URL: launch.controlPlaneUrl,
    BOOTSTRAP_TOKEN: launch.bootstrapToken,
    ...(launch.natsTlsCaFile ? { NATS_TLS_CA_FILE: launch.natsTlsCaFile } : {}),
    ...settingsToEnv(launch.settings),
  };
}

/** Everything of the worker's environment but BOOTSTRAP_TOKEN, which is a secret (below). */
const WorkerEnvSchema = z
  .object({
    DEPLOYMENT_ID: DeploymentIdSchema,
    /** Events and cancel go over NATS; without it, events are printed to stdout as JSON lines. */
    NATS_URL: envUrl(['nats', 'tls', 'ws', 'wss']),
    /** Where the worker exchanges its bootstrap token and asks for its grants. */
    CONTROL_PLANE_URL: envRequiredUrl(['http', 'https']),
    /** CA certificates for a `tls://` server whose certificate the system does not trust. */
    NATS_TLS_CA_FILE: z.preprocess(emptyIsUnset, z.string().optional()),
    /** Set by ECS's agent in every task: where the task's metadata and stats are. */
    ECS_CONTAINER_METADATA_URI_V4: envUrl(['http']),
    ...buildSettingsEnvShape,
  })
  .transform((e) => ({
    deploymentId: e.DEPLOYMENT_ID,
    natsUrl: e.NATS_URL,
    controlPlaneUrl: e.CONTROL_PLANE_URL,
    natsTlsCaFile: e.NATS_TLS_CA_FILE,
    taskMetadataUri: e.ECS_CONTAINER_METADATA_URI_V4,
    settings: settingsFrom(e),
  }));

export interface WorkerConfig {
  deploymentId: string;
  natsUrl: string | undefined;
  controlPlaneUrl: string;
  /** One-time: exchanged for the spec, the NATS user and the build token. */
  bootstrapToken: string;
  natsTlsCaFile: string | undefined;
  /** On ECS: the task metadata endpoint, whose stats give the build's CPU and peak memory. */
  taskMetadataUri: string | undefined;
  settings: BuildSettings;
}

/** Parses the worker's environment once; throws ConfigError naming every bad variable. */
export function loadWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  const problems: string[] = [];
  let c: z.output<typeof WorkerEnvSchema> | undefined;
  try {
    c = parseConfig(WorkerEnvSchema, env, 'build worker');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(err.message.split('\n').slice(1).join('\n'));
  }
  // Checked apart from the others, so no message can quote it.
  const bootstrapToken = env.BOOTSTRAP_TOKEN;
  if (!bootstrapToken || !/^[A-Za-z0-9_-]{32,128}$/.test(bootstrapToken)) {
    problems.push(
      bootstrapToken
        ? '  BOOTSTRAP_TOKEN: expected a base64url token; the value is not shown'
        : "  BOOTSTRAP_TOKEN: is required (the build's one-time token, set by the runner)",
    );
  }
  if (problems.length > 0 || c === undefined || !bootstrapToken) {
    throw new ConfigError(`Invalid build worker configuration:\n${problems.join('\n')}`);
  }
  return { ...c, bootstrapToken };
}

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  BuildSpecSchema,
  ConfigError,
  envBoolean,
  envInt,
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
  uploadConcurrency: 16,
  heartbeatIntervalMs: 5_000,
  keepWorkDir: false,
  cacheMaxBytes: 2 * 1024 * 1024 * 1024,
  cacheExpiryDays: 7,
};

const d = DEFAULT_BUILD_SETTINGS;

/**
 * The spec holds the project's secrets and storage credentials, so it is parsed apart from the
 * other variables: its errors name the field, never echo the value.
 */
export function parseBuildSpecJson(raw: string | undefined): BuildSpec {
  if (raw === undefined || raw === '') {
    throw new ConfigError('  DEPLOYSPHERE_BUILD_SPEC: is required (the build spec as JSON)');
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError('  DEPLOYSPHERE_BUILD_SPEC: expected JSON');
  }
  const parsed = BuildSpecSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) =>
        `  DEPLOYSPHERE_BUILD_SPEC: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ConfigError(lines.join('\n'));
  }
  return parsed.data;
}

/**
 * NATS_CREDS is this build's own NATS user (a `.creds` text) that the control plane minted for
 * it (docs/nats-auth.md). Like the spec, it is checked apart from the other variables, so no
 * error message can quote it.
 */
export function parseNatsCredentials(
  raw: string | undefined,
  natsUrl: string | undefined,
): string | undefined {
  const creds = raw === '' ? undefined : raw;
  if (natsUrl === undefined) {
    if (creds !== undefined) throw new ConfigError('  NATS_CREDS: only used with NATS_URL');
    return undefined;
  }
  if (creds === undefined) {
    throw new ConfigError("  NATS_CREDS: is required with NATS_URL (the build's NATS user, as .creds text)");
  }
  if (!/-BEGIN NATS USER JWT-[\s\S]+-BEGIN USER NKEY SEED-/.test(creds)) {
    throw new ConfigError(
      '  NATS_CREDS: expected NATS user credentials (.creds text); the value is not shown',
    );
  }
  return creds;
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

/** What a runner hands one build: everything loadWorkerConfig reads back. */
export interface WorkerLaunch {
  spec: BuildSpec;
  natsUrl?: string | undefined;
  natsCredentials?: string | undefined;
  natsTlsCaFile?: string | undefined;
  settings: Partial<BuildSettings>;
}

/**
 * The worker's whole environment for one build, the inverse of loadWorkerConfig. Secrets (the
 * spec holds the project's env, NATS_CREDS the build's NATS user) travel in the environment,
 * never argv (visible in ps); the worker drops NATS_CREDS from its own environment once read.
 */
export function workerEnv(launch: WorkerLaunch): Record<string, string> {
  return {
    ...(launch.natsUrl ? { NATS_URL: launch.natsUrl } : {}),
    ...(launch.natsCredentials ? { NATS_CREDS: launch.natsCredentials } : {}),
    ...(launch.natsTlsCaFile ? { NATS_TLS_CA_FILE: launch.natsTlsCaFile } : {}),
    DEPLOYSPHERE_BUILD_SPEC: JSON.stringify(launch.spec),
    ...settingsToEnv(launch.settings),
  };
}

/** Everything of the worker's environment but the spec and NATS_CREDS, which are secrets (above). */
const WorkerEnvSchema = z
  .object({
    /** Events and cancel go over NATS; without it, events are printed to stdout as JSON lines. */
    NATS_URL: envUrl(['nats', 'tls', 'ws', 'wss']),
    /** CA certificates for a `tls://` server whose certificate the system does not trust. */
    NATS_TLS_CA_FILE: z.preprocess(emptyIsUnset, z.string().optional()),
    ...buildSettingsEnvShape,
  })
  .transform((e) => ({ natsUrl: e.NATS_URL, natsTlsCaFile: e.NATS_TLS_CA_FILE, settings: settingsFrom(e) }));

export interface WorkerConfig {
  spec: BuildSpec;
  natsUrl: string | undefined;
  /** This build's NATS user; set whenever natsUrl is. */
  natsCredentials: string | undefined;
  natsTlsCaFile: string | undefined;
  settings: BuildSettings;
}

/** Parses the worker's environment once; throws ConfigError naming every bad variable. */
export function loadWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  const problems: string[] = [];
  let spec: BuildSpec | undefined;
  try {
    spec = parseBuildSpecJson(env.DEPLOYSPHERE_BUILD_SPEC);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(err.message);
  }
  let c: z.output<typeof WorkerEnvSchema> | undefined;
  try {
    c = parseConfig(WorkerEnvSchema, env, 'build worker');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(err.message.split('\n').slice(1).join('\n'));
  }
  let natsCredentials: string | undefined;
  try {
    // Against the raw NATS_URL: the parsed one is missing when any other variable is wrong.
    natsCredentials = parseNatsCredentials(env.NATS_CREDS, env.NATS_URL || undefined);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(err.message);
  }
  if (problems.length > 0 || spec === undefined || c === undefined) {
    throw new ConfigError(`Invalid build worker configuration:\n${problems.join('\n')}`);
  }
  return { spec, natsCredentials, ...c };
}

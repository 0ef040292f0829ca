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
}

export const DEFAULT_BUILD_SETTINGS: BuildSettings = {
  workDir: join(tmpdir(), 'deploysphere-builds'),
  timeoutMs: 15 * 60_000,
  memoryMb: 4096,
  cpuSeconds: 30 * 60,
  maxOutputBytes: 1024 * 1024 * 1024,
  maxOutputFiles: 50_000,
  allowUnsandboxed: false,
  uploadConcurrency: 16,
  heartbeatIntervalMs: 5_000,
  keepWorkDir: false,
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

const WorkerEnvSchema = z.object({
  /** Events and cancel go over NATS; without it, events are printed to stdout as JSON lines. */
  NATS_URL: envUrl(['nats', 'tls', 'ws', 'wss']),
  /** CA certificates for a `tls://` server whose certificate the system does not trust. */
  NATS_TLS_CA_FILE: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  WORK_DIR: z.string().min(1).default(d.workDir),
  BUILD_TIMEOUT_MS: envInt(d.timeoutMs, 1000),
  BUILD_MEMORY_MB: envInt(d.memoryMb, 1024),
  BUILD_CPU_SECONDS: envInt(d.cpuSeconds, 1),
  MAX_OUTPUT_BYTES: envInt(d.maxOutputBytes, 1),
  MAX_OUTPUT_FILES: envInt(d.maxOutputFiles, 1),
  ALLOW_UNSANDBOXED_BUILDS: envBoolean(false),
  BWRAP_PATH: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  UPLOAD_CONCURRENCY: envInt(d.uploadConcurrency, 1),
  HEARTBEAT_INTERVAL_MS: envInt(d.heartbeatIntervalMs, 100),
  KEEP_WORK_DIR: envBoolean(false),
});

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
  return {
    spec,
    natsUrl: c.NATS_URL,
    natsCredentials,
    natsTlsCaFile: c.NATS_TLS_CA_FILE,
    settings: {
      workDir: c.WORK_DIR,
      timeoutMs: c.BUILD_TIMEOUT_MS,
      memoryMb: c.BUILD_MEMORY_MB,
      cpuSeconds: c.BUILD_CPU_SECONDS,
      maxOutputBytes: c.MAX_OUTPUT_BYTES,
      maxOutputFiles: c.MAX_OUTPUT_FILES,
      allowUnsandboxed: c.ALLOW_UNSANDBOXED_BUILDS,
      bwrapPath: c.BWRAP_PATH,
      uploadConcurrency: c.UPLOAD_CONCURRENCY,
      heartbeatIntervalMs: c.HEARTBEAT_INTERVAL_MS,
      keepWorkDir: c.KEEP_WORK_DIR,
    },
  };
}

import { readFileSync } from 'node:fs';
import { buildSettingsEnvShape, type BuildSettings } from '@deploysphere/build-worker/config';
import {
  DEFAULT_REGIONS,
  envBoolean,
  envInt,
  envPort,
  envRequiredString,
  envRequiredUrl,
  envUrl,
  OidcProviderSettingsSchema,
  parseConfig,
  RegionSchema,
  type Region,
  type StorageTarget,
} from '@deploysphere/contracts';
import { InvalidCredentialsError, isSeedOf, parseCredentials } from '@deploysphere/stack/nats-auth';
import { z } from 'zod';
import { readEcsEnv, type EcsRegionSettings } from './pipeline/ecs/ecs-settings.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** REGIONS is a JSON array of {id, name, latitude, longitude}; unset means the three defaults. */
export const envRegions = z
  .string()
  .optional()
  .transform((raw, ctx): Region[] => {
    if (raw === undefined || raw.trim() === '') return [...DEFAULT_REGIONS];
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a JSON array of {id, name, latitude, longitude}' });
      return z.NEVER;
    }
    const parsed = z.array(RegionSchema).min(1).safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || 'value'}: ${issue.message}` });
      return z.NEVER;
    }
    const ids = parsed.data.map((r) => r.id);
    if (new Set(ids).size !== ids.length) {
      ctx.addIssue({ code: 'custom', message: 'region ids must be unique' });
      return z.NEVER;
    }
    return parsed.data;
  });

/** `us-east-1` → `S3_US_EAST_1_`: the prefix of a region's storage variables. */
export function storageEnvPrefix(regionId: string): string {
  return `S3_${regionId.toUpperCase().replace(/-/g, '_')}_`;
}

/** What is wrong with one variable (or with a few, named together). */
export interface EnvProblem {
  variable: string;
  message: string;
}

/** Adds the problems to a schema's issues, so parseConfig reports them with the others. */
export function reportProblems(ctx: z.RefinementCtx, problems: readonly EnvProblem[]): void {
  for (const p of problems) ctx.addIssue({ code: 'custom', path: [p.variable], message: p.message });
}

/** A variable as a string; unset and empty are both undefined. */
function envString(env: Record<string, unknown>, name: string): string | undefined {
  const v = env[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export interface RegionStorageEnv {
  region: string;
  endpoint?: string;
  bucket?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

/**
 * Reads each region's S3_<REGION>_ENDPOINT / _BUCKET / _ACCESS_KEY_ID / _SECRET_ACCESS_KEY /
 * _FORCE_PATH_STYLE. Their names depend on REGIONS, so they are read here rather than declared
 * in a schema. Problems name the variable and never quote its value.
 */
export function readRegionStorageEnv(
  env: Record<string, unknown>,
  regions: readonly Region[],
): { storage: RegionStorageEnv[]; problems: EnvProblem[] } {
  const problems: EnvProblem[] = [];
  const storage = regions.map((region) => {
    const prefix = storageEnvPrefix(region.id);
    const get = (name: string) => envString(env, prefix + name);
    const endpoint = get('ENDPOINT');
    if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint)) {
      problems.push({ variable: `${prefix}ENDPOINT`, message: 'expected an http:// or https:// URL' });
    }
    const bucket = get('BUCKET');
    if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      problems.push({
        variable: `${prefix}BUCKET`,
        message: 'expected an S3 bucket name, 3-63 lowercase characters',
      });
    }
    const accessKeyId = get('ACCESS_KEY_ID');
    const secretAccessKey = get('SECRET_ACCESS_KEY');
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      problems.push({
        variable: `${prefix}ACCESS_KEY_ID and ${prefix}SECRET_ACCESS_KEY`,
        message: 'must be set together',
      });
    }
    const pathStyle = get('FORCE_PATH_STYLE');
    return {
      region: region.id,
      ...(endpoint ? { endpoint } : {}),
      ...(bucket ? { bucket } : {}),
      ...(accessKeyId ? { accessKeyId } : {}),
      ...(secretAccessKey ? { secretAccessKey } : {}),
      forcePathStyle: pathStyle === undefined ? endpoint !== undefined : pathStyle === 'true',
    };
  });
  return { storage, problems };
}

/** The variables that configure one region's storage as `target` is: readRegionStorageEnv's inverse. */
export function storageTargetEnv(target: StorageTarget): Record<string, string> {
  const prefix = storageEnvPrefix(target.region);
  // Empty means unset, so nothing of an environment's own S3 variables for the region remains.
  return {
    [`${prefix}ENDPOINT`]: target.endpoint ?? '',
    [`${prefix}BUCKET`]: target.bucket,
    [`${prefix}ACCESS_KEY_ID`]: target.accessKeyId ?? '',
    [`${prefix}SECRET_ACCESS_KEY`]: target.secretAccessKey ?? '',
    [`${prefix}FORCE_PATH_STYLE`]: String(target.forcePathStyle),
  };
}

/** How the control plane authenticates to NATS (docs/nats-auth.md). */
export interface NatsClientAuth {
  /** The control plane's own NATS user: the text of a `.creds` file. */
  credentials: string;
  /** The seed of the app account's build signing key, which mints each build's user. */
  buildSigningKey: string;
  /** CA certificates for a `tls://` server whose certificate the system does not trust. */
  tlsCaFile?: string;
}

/**
 * Reads NATS_CREDS_FILE, NATS_BUILD_SIGNING_KEY and NATS_TLS_CA_FILE: files are read and the key
 * is checked here. File paths are quoted in problems (a path is not a secret); the key never is.
 * `required`: a NATS_URL is set, so NATS needs our credentials; otherwise none may be set.
 */
export function readNatsAuthEnv(
  env: Record<string, unknown>,
  required: boolean,
): { auth?: NatsClientAuth; problems: EnvProblem[] } {
  const credsFile = envString(env, 'NATS_CREDS_FILE');
  const signingKey = envString(env, 'NATS_BUILD_SIGNING_KEY')?.trim();
  const tlsCaFile = envString(env, 'NATS_TLS_CA_FILE');
  const problems: EnvProblem[] = [];
  if (!required) {
    for (const [variable, value] of [
      ['NATS_CREDS_FILE', credsFile],
      ['NATS_BUILD_SIGNING_KEY', signingKey],
      ['NATS_TLS_CA_FILE', tlsCaFile],
    ] as const) {
      if (value !== undefined)
        problems.push({ variable, message: 'only used with NATS_URL (the embedded server makes its own)' });
    }
    return { problems };
  }

  let credentials: string | undefined;
  if (credsFile === undefined) {
    problems.push({
      variable: 'NATS_CREDS_FILE',
      message: "is required (the path of the control plane's NATS .creds file)",
    });
  } else {
    try {
      credentials = readFileSync(credsFile, 'utf8');
      parseCredentials(credentials);
    } catch (err) {
      const why = err instanceof InvalidCredentialsError ? err.message : (err as NodeJS.ErrnoException).code;
      problems.push({
        variable: 'NATS_CREDS_FILE',
        message: `cannot use ${JSON.stringify(credsFile)}: ${why ?? String(err)}`,
      });
      credentials = undefined;
    }
  }
  if (signingKey === undefined) {
    problems.push({
      variable: 'NATS_BUILD_SIGNING_KEY',
      message: 'is required (the seed of the account signing key that mints build users)',
    });
  } else if (!isSeedOf(signingKey, 'A')) {
    problems.push({ variable: 'NATS_BUILD_SIGNING_KEY', message: 'expected an account nkey seed (SA…)' });
  }
  if (tlsCaFile !== undefined) {
    try {
      readFileSync(tlsCaFile);
    } catch (err) {
      problems.push({
        variable: 'NATS_TLS_CA_FILE',
        message: `cannot read ${JSON.stringify(tlsCaFile)}: ${(err as NodeJS.ErrnoException).code}`,
      });
    }
  }
  if (problems.length > 0 || credentials === undefined || signingKey === undefined) return { problems };
  return {
    auth: { credentials, buildSigningKey: signingKey, ...(tlsCaFile ? { tlsCaFile } : {}) },
    problems,
  };
}

/** 32 random bytes, base64: the AES-256-GCM key for project env values at rest. */
export const envEncryptionKey = z
  .string()
  .refine(
    (v) => Buffer.from(v, 'base64').length === 32,
    'expected 32 bytes, base64-encoded (openssl rand -base64 32)',
  )
  .transform((v) => Buffer.from(v, 'base64'));

export const logLevel = (fallback: (typeof LOG_LEVELS)[number]) =>
  z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default(fallback);

/** Settings every control plane shares, standalone or under `npm start`. */
export const sharedEnvShape = {
  ROOT_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+$/, 'expected a lowercase domain name like deploysphere.app')
    .default('localhost'),
  REGIONS: envRegions,
  BUILD_CONCURRENCY: envInt(2, 1),
  LOG_RETENTION_DAYS: envInt(30, 1),
  // The build worker's own variables and defaults: the control plane passes them on to it.
  BUILD_TIMEOUT_MS: buildSettingsEnvShape.BUILD_TIMEOUT_MS,
  BUILD_MEMORY_MB: buildSettingsEnvShape.BUILD_MEMORY_MB,
  BUILD_CPU_SECONDS: buildSettingsEnvShape.BUILD_CPU_SECONDS,
  MAX_OUTPUT_BYTES: buildSettingsEnvShape.MAX_OUTPUT_BYTES,
  MAX_OUTPUT_FILES: buildSettingsEnvShape.MAX_OUTPUT_FILES,
  ALLOW_UNSANDBOXED_BUILDS: buildSettingsEnvShape.ALLOW_UNSANDBOXED_BUILDS,
  HEARTBEAT_TIMEOUT_MS: envInt(30_000, 1000),
  /**
   * Whether blob presence (upload grants, CLI finalize) may list `blobs/` instead of a HEAD per
   * blob. On S3 a listing page answers 1,000 keys for the price of 12.5 HEADs; s3rver reads each
   * listed object's metadata from disk, so there a listing costs what HEADs do, per object of the
   * bucket, and `npm start` turns it off for its embedded s3rver.
   */
  BLOB_PRESENCE_LISTING: envBoolean(true),
  /** Garbage collection of old deployments' files and build caches (docs/retention.md); `npm start` passes them on. */
  GC_ENABLED: envBoolean(true),
  GC_INTERVAL_MS: envInt(60 * 60_000, 1000),
  /** Unreferenced objects younger than this are never deleted. */
  GC_GRACE_MS: envInt(24 * 60 * 60_000, 0),
  GC_LEASE_MS: envInt(60_000, 1000),
  GC_PAGE_SIZE: envInt(1000, 1),
  GC_RETAIN_READY_PER_BRANCH: envInt(10, 1),
  GC_PREVIEW_MAX_AGE_DAYS: envInt(30, 1),
  BUILD_CACHE_EXPIRY_DAYS: buildSettingsEnvShape.BUILD_CACHE_EXPIRY_DAYS,
};

/** The worker's limits the control plane sets for every build, plus its own watchdog window. */
export type BuildLimits = Pick<
  BuildSettings,
  | 'workDir'
  | 'timeoutMs'
  | 'memoryMb'
  | 'cpuSeconds'
  | 'maxOutputBytes'
  | 'maxOutputFiles'
  | 'allowUnsandboxed'
> & {
  /** A build silent for this long is failed: its worker is gone. */
  heartbeatTimeoutMs: number;
};

/** Every variable the control plane reads, standalone or under `npm start` (which sets them all). */
const controlPlaneEnvShape = {
  ...sharedEnvShape,
  PORT: envPort(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: logLevel('info'),
  DATABASE_URL: envRequiredUrl(['postgres', 'postgresql']),
  NATS_URL: envRequiredUrl(['nats', 'tls', 'ws', 'wss']),
  CLICKHOUSE_URL: envUrl(['http', 'https']),
  CLICKHOUSE_CHDB_PATH: z.string().min(1).optional(),
  EDGE_URL: envUrl(['http', 'https']),
  /**
   * Where build workers reach this control plane (bootstrap and grants). Default: this process's
   * own HOST and PORT, with a wildcard host as loopback: right for local builds only.
   */
  CONTROL_PLANE_URL: envUrl(['http', 'https']),
  SITES_PROTOCOL: z.enum(['http', 'https'], { error: 'expected http or https' }).default('https'),
  SITES_PORT: z.coerce.number({ error: 'expected a port number' }).int().min(1).max(65535).optional(),
  ENV_ENCRYPTION_KEY: envEncryptionKey,
  BUILD_WORK_DIR: z.string().min(1).default('/tmp/deploysphere-builds'),
  DEPLOYSPHERE_ADMIN_TOKEN: envRequiredString().pipe(z.string().min(16, 'must be at least 16 characters')),
  DASHBOARD_DIR: z.string().optional(),
  EDGE_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Shared with the edge: signs protected hosts' grants (docs/protected-previews.md); unset: none. */
  PROTECTION_SIGNING_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  ALLOW_LOCAL_REPOS: envBoolean(false),
  /** OpenID Connect providers for sign-in, as a JSON array (docs/accounts.md); unset: none. */
  OIDC_PROVIDERS: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (!raw) return [];
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON array of providers' });
        return z.NEVER;
      }
    })
    .pipe(z.array(OidcProviderSettingsSchema).max(20, 'must list at most 20 providers')),
  /** Where builds run: `local` processes, or `ecs` tasks in each project's primary region. */
  BUILD_RUNNER: z.enum(['local', 'ecs'], { error: 'expected local or ecs' }).default('local'),
  /** How often each region's running build tasks are described (failed rounds back off). */
  ECS_POLL_INTERVAL_MS: envInt(2_000, 100),
  /** How often each region's cluster is swept for tasks whose deployment has finished. */
  ECS_ORPHAN_SWEEP_INTERVAL_MS: envInt(5 * 60_000, 1000),
  /**
   * How long a control plane's claim on the ECS builds it follows holds without renewal (renewed
   * every third of it). A replica that dies leaves its builds to another after this long.
   */
  ECS_OWNER_LEASE_MS: envInt(30_000, 1000),
  /** Static credentials for the ECS API; unset means the AWS SDK's default chain (a role). */
  ECS_ACCESS_KEY_ID: z.string().min(1).optional(),
  ECS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
};

/** Where builds run (docs/ecs-builds.md). */
export type BuildRunnerConfig =
  | { kind: 'local' }
  | {
      kind: 'ecs';
      regions: EcsRegionSettings[];
      pollIntervalMs: number;
      orphanSweepIntervalMs: number;
      ownerLeaseMs: number;
      credentials?: { accessKeyId: string; secretAccessKey: string };
    };

/** This process's own URL from HOST and PORT; a wildcard host is reached on loopback. */
function ownUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

/** Unknown keys are kept: the per-region S3 variables are named after REGIONS. */
const ControlPlaneEnv = z.looseObject(controlPlaneEnvShape);

/**
 * The variables' values, checked together and turned into the config object. Problems across
 * variables (a region without a bucket, ClickHouse unset, NATS credentials) are issues too, so
 * they are reported with the rest.
 */
function toControlPlaneConfig(env: z.output<typeof ControlPlaneEnv>, ctx: z.RefinementCtx) {
  const { storage, problems } = readRegionStorageEnv(env, env.REGIONS);
  const nats = readNatsAuthEnv(env, true);
  problems.push(...nats.problems);
  const targets: StorageTarget[] = [];
  for (const s of storage) {
    if (s.bucket) targets.push({ ...s, bucket: s.bucket });
    else
      problems.push({
        variable: `${storageEnvPrefix(s.region)}BUCKET`,
        message: `is required for region ${s.region}`,
      });
  }
  const clickhouse = env.CLICKHOUSE_URL
    ? { url: env.CLICKHOUSE_URL }
    : env.CLICKHOUSE_CHDB_PATH
      ? { chdbPath: env.CLICKHOUSE_CHDB_PATH }
      : undefined;
  if (!clickhouse) {
    problems.push({
      variable: 'CLICKHOUSE_URL',
      message: 'is required (or CLICKHOUSE_CHDB_PATH for embedded chDB)',
    });
  }
  let buildRunner: BuildRunnerConfig = { kind: 'local' };
  if (env.BUILD_RUNNER === 'ecs') {
    const ecs = readEcsEnv(env, env.REGIONS);
    problems.push(...ecs.problems);
    if ((env.ECS_ACCESS_KEY_ID === undefined) !== (env.ECS_SECRET_ACCESS_KEY === undefined)) {
      problems.push({
        variable: 'ECS_ACCESS_KEY_ID and ECS_SECRET_ACCESS_KEY',
        message: 'must be set together',
      });
    }
    buildRunner = {
      kind: 'ecs',
      regions: ecs.ecs,
      pollIntervalMs: env.ECS_POLL_INTERVAL_MS,
      orphanSweepIntervalMs: env.ECS_ORPHAN_SWEEP_INTERVAL_MS,
      ownerLeaseMs: env.ECS_OWNER_LEASE_MS,
      ...(env.ECS_ACCESS_KEY_ID && env.ECS_SECRET_ACCESS_KEY
        ? { credentials: { accessKeyId: env.ECS_ACCESS_KEY_ID, secretAccessKey: env.ECS_SECRET_ACCESS_KEY } }
        : {}),
    };
  }
  reportProblems(ctx, problems);
  if (problems.length > 0 || !nats.auth || !clickhouse) return z.NEVER;
  const build: BuildLimits = {
    workDir: env.BUILD_WORK_DIR,
    timeoutMs: env.BUILD_TIMEOUT_MS,
    memoryMb: env.BUILD_MEMORY_MB,
    cpuSeconds: env.BUILD_CPU_SECONDS,
    maxOutputBytes: env.MAX_OUTPUT_BYTES,
    maxOutputFiles: env.MAX_OUTPUT_FILES,
    allowUnsandboxed: env.ALLOW_UNSANDBOXED_BUILDS,
    heartbeatTimeoutMs: env.HEARTBEAT_TIMEOUT_MS,
  };
  return {
    host: env.HOST,
    port: env.PORT,
    controlPlaneUrl: (env.CONTROL_PLANE_URL ?? ownUrl(env.HOST, env.PORT)).replace(/\/+$/, ''),
    logLevel: env.LOG_LEVEL,
    databaseUrl: env.DATABASE_URL,
    natsUrl: env.NATS_URL,
    natsAuth: nats.auth,
    clickhouse,
    rootDomain: env.ROOT_DOMAIN,
    /** How sites' URLs are printed: `<protocol>://<host>[:<port>]`. */
    sites: { protocol: env.SITES_PROTOCOL, ...(env.SITES_PORT ? { port: env.SITES_PORT } : {}) },
    /** AES-256-GCM key for project env values at rest. */
    envEncryptionKey: env.ENV_ENCRYPTION_KEY,
    build,
    buildRunner,
    /** Base URL of the edge; its /healthz on the bare root domain is part of /readyz. */
    ...(env.EDGE_URL ? { edgeUrl: env.EDGE_URL } : {}),
    adminToken: env.DEPLOYSPHERE_ADMIN_TOKEN,
    /** Bearer token the edge presents when it posts request metrics; unset disables the endpoint. */
    ...(env.EDGE_METRICS_TOKEN ? { edgeMetricsToken: env.EDGE_METRICS_TOKEN } : {}),
    ...(env.DASHBOARD_DIR ? { dashboardDir: env.DASHBOARD_DIR } : {}),
    /** Signs protected hosts' grants; without it projects cannot turn protection on. */
    ...(env.PROTECTION_SIGNING_KEY ? { protectionSigningKey: env.PROTECTION_SIGNING_KEY } : {}),
    allowLocalRepos: env.ALLOW_LOCAL_REPOS,
    /** OpenID Connect sign-in providers. */
    oidcProviders: env.OIDC_PROVIDERS,
    regions: env.REGIONS,
    storage: targets,
    blobPresenceListing: env.BLOB_PRESENCE_LISTING,
    buildConcurrency: env.BUILD_CONCURRENCY,
    /** Build log lines older than this are dropped by ClickHouse's TTL. */
    logRetentionDays: env.LOG_RETENTION_DAYS,
    /** Garbage collection: its schedule, lease and grace period, and the retention defaults. */
    gc: {
      enabled: env.GC_ENABLED,
      intervalMs: env.GC_INTERVAL_MS,
      graceMs: env.GC_GRACE_MS,
      leaseMs: env.GC_LEASE_MS,
      pageSize: env.GC_PAGE_SIZE,
      defaults: {
        retainReadyPerBranch: env.GC_RETAIN_READY_PER_BRANCH,
        previewMaxAgeDays: env.GC_PREVIEW_MAX_AGE_DAYS,
        buildCacheExpiryDays: env.BUILD_CACHE_EXPIRY_DAYS,
      },
    },
  };
}

/** The control plane's environment, parsed and checked into its config object in one step. */
export const ControlPlaneConfigSchema = ControlPlaneEnv.transform(toControlPlaneConfig);
export type ControlPlaneConfig = z.output<typeof ControlPlaneConfigSchema>;

/**
 * The control plane's configuration. The one way to make one: the standalone server passes its
 * environment, `npm start` the variables it resolved for its embedded services.
 */
export function loadControlPlaneConfig(env: Record<string, string | undefined>): ControlPlaneConfig {
  return parseConfig(ControlPlaneConfigSchema, env, 'control plane');
}

const routeRecordsWhy = 'so the control plane can write route records to Workers KV';

/**
 * The standalone server (`server.ts`) also writes route records to Cloudflare Workers KV; `npm
 * start` uses Miniflare's KV instead, so these are not part of the control plane's own config.
 */
const ServerConfigSchema = z
  .looseObject({
    ...controlPlaneEnvShape,
    CLOUDFLARE_ACCOUNT_ID: envRequiredString(routeRecordsWhy),
    CLOUDFLARE_KV_NAMESPACE_ID: envRequiredString(routeRecordsWhy),
    CLOUDFLARE_API_TOKEN: envRequiredString(routeRecordsWhy),
  })
  .transform((env, ctx) => ({
    controlPlane: toControlPlaneConfig(env, ctx),
    cloudflareKv: {
      accountId: env.CLOUDFLARE_ACCOUNT_ID,
      namespaceId: env.CLOUDFLARE_KV_NAMESPACE_ID,
      apiToken: env.CLOUDFLARE_API_TOKEN,
    },
  }));
export type ServerConfig = z.output<typeof ServerConfigSchema>;

/** The standalone control plane's configuration (`control-plane/src/server.ts`). */
export function loadServerConfig(env: Record<string, string | undefined>): ServerConfig {
  return parseConfig(ServerConfigSchema, env, 'control plane');
}

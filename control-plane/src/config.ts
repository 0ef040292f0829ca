import {
  configError,
  DEFAULT_REGIONS,
  envBoolean,
  envInt,
  envPort,
  envUrl,
  parseConfig,
  RegionSchema,
  type Region,
  type StorageTarget,
} from '@deploysphere/contracts';
import { readFileSync } from 'node:fs';
import { DEFAULT_BUILD_SETTINGS, type BuildSettings } from '@deploysphere/build-worker/config';
import { InvalidCredentialsError, isSeedOf, parseCredentials } from '@deploysphere/stack/nats-auth';
import { z } from 'zod';

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
 * _FORCE_PATH_STYLE. Problems are reported with the variable's name.
 */
export function readRegionStorageEnv(
  env: Record<string, string | undefined>,
  regions: readonly Region[],
): { storage: RegionStorageEnv[]; problems: string[] } {
  const problems: string[] = [];
  const storage = regions.map((region) => {
    const prefix = storageEnvPrefix(region.id);
    const get = (name: string) => {
      const v = env[prefix + name];
      return v === undefined || v === '' ? undefined : v;
    };
    const endpoint = get('ENDPOINT');
    if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint)) {
      problems.push(
        `  ${prefix}ENDPOINT: expected an http:// or https:// URL (got ${JSON.stringify(endpoint)})`,
      );
    }
    const bucket = get('BUCKET');
    if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      problems.push(`  ${prefix}BUCKET: expected an S3 bucket name, 3-63 lowercase characters`);
    }
    const accessKeyId = get('ACCESS_KEY_ID');
    const secretAccessKey = get('SECRET_ACCESS_KEY');
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      problems.push(`  ${prefix}ACCESS_KEY_ID and ${prefix}SECRET_ACCESS_KEY must be set together`);
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
 * Reads NATS_CREDS_FILE, NATS_BUILD_SIGNING_KEY and NATS_TLS_CA_FILE. They are checked here, not
 * in a zod schema, because parseConfig quotes a bad value in its message and these are secrets.
 * `required`: a NATS_URL is set, so NATS needs our credentials; otherwise none may be set.
 */
export function readNatsAuthEnv(
  env: Record<string, string | undefined>,
  required: boolean,
): { auth?: NatsClientAuth; problems: string[] } {
  const get = (name: string) => (env[name] === '' ? undefined : env[name]);
  const credsFile = get('NATS_CREDS_FILE');
  const signingKey = get('NATS_BUILD_SIGNING_KEY')?.trim();
  const tlsCaFile = get('NATS_TLS_CA_FILE');
  const problems: string[] = [];
  if (!required) {
    for (const [name, value] of [
      ['NATS_CREDS_FILE', credsFile],
      ['NATS_BUILD_SIGNING_KEY', signingKey],
      ['NATS_TLS_CA_FILE', tlsCaFile],
    ] as const) {
      if (value !== undefined)
        problems.push(`  ${name}: only used with NATS_URL (the embedded server makes its own)`);
    }
    return { problems };
  }

  let credentials: string | undefined;
  if (credsFile === undefined) {
    problems.push("  NATS_CREDS_FILE: is required (the path of the control plane's NATS .creds file)");
  } else {
    try {
      credentials = readFileSync(credsFile, 'utf8');
      parseCredentials(credentials);
    } catch (err) {
      const why = err instanceof InvalidCredentialsError ? err.message : (err as NodeJS.ErrnoException).code;
      problems.push(`  NATS_CREDS_FILE: cannot use ${JSON.stringify(credsFile)}: ${why ?? String(err)}`);
      credentials = undefined;
    }
  }
  if (signingKey === undefined) {
    problems.push(
      '  NATS_BUILD_SIGNING_KEY: is required (the seed of the account signing key that mints build users)',
    );
  } else if (!isSeedOf(signingKey, 'A')) {
    problems.push('  NATS_BUILD_SIGNING_KEY: expected an account nkey seed (SA…); its value is not shown');
  }
  if (tlsCaFile !== undefined) {
    try {
      readFileSync(tlsCaFile);
    } catch (err) {
      problems.push(
        `  NATS_TLS_CA_FILE: cannot read ${JSON.stringify(tlsCaFile)}: ${(err as NodeJS.ErrnoException).code}`,
      );
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

/** Settings every control plane shares, standalone or under `npm start`. */
export const sharedEnvShape = {
  ROOT_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+$/, 'expected a lowercase domain name like deploysphere.app')
    .default('localhost'),
  REGIONS: envRegions,
  BUILD_CONCURRENCY: envInt(2, 1),
  LOG_RETENTION_DAYS: envInt(30, 1),
  // The build worker's own defaults: the control plane passes these through to it.
  BUILD_TIMEOUT_MS: envInt(DEFAULT_BUILD_SETTINGS.timeoutMs, 1000),
  BUILD_MEMORY_MB: envInt(DEFAULT_BUILD_SETTINGS.memoryMb, 1024),
  BUILD_CPU_SECONDS: envInt(DEFAULT_BUILD_SETTINGS.cpuSeconds, 1),
  MAX_OUTPUT_BYTES: envInt(DEFAULT_BUILD_SETTINGS.maxOutputBytes, 1),
  MAX_OUTPUT_FILES: envInt(DEFAULT_BUILD_SETTINGS.maxOutputFiles, 1),
  ALLOW_UNSANDBOXED_BUILDS: envBoolean(DEFAULT_BUILD_SETTINGS.allowUnsandboxed),
  HEARTBEAT_TIMEOUT_MS: envInt(30_000, 1000),
};

export type SharedEnv = z.output<z.ZodObject<typeof sharedEnvShape>>;

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

export function buildLimitsFrom(env: SharedEnv, workDir: string): BuildLimits {
  return {
    workDir,
    timeoutMs: env.BUILD_TIMEOUT_MS,
    memoryMb: env.BUILD_MEMORY_MB,
    cpuSeconds: env.BUILD_CPU_SECONDS,
    maxOutputBytes: env.MAX_OUTPUT_BYTES,
    maxOutputFiles: env.MAX_OUTPUT_FILES,
    allowUnsandboxed: env.ALLOW_UNSANDBOXED_BUILDS,
    heartbeatTimeoutMs: env.HEARTBEAT_TIMEOUT_MS,
  };
}

const ControlPlaneEnvSchema = z.object({
  ...sharedEnvShape,
  PORT: envPort(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  DATABASE_URL: envUrl(['postgres', 'postgresql']).refine((v) => v !== undefined, 'is required'),
  NATS_URL: envUrl(['nats', 'tls', 'ws', 'wss']).refine((v) => v !== undefined, 'is required'),
  CLICKHOUSE_URL: envUrl(['http', 'https']),
  CLICKHOUSE_CHDB_PATH: z.string().min(1).optional(),
  EDGE_URL: envUrl(['http', 'https']),
  SITES_PROTOCOL: z.enum(['http', 'https'], { error: 'expected http or https' }).default('https'),
  SITES_PORT: z.coerce.number({ error: 'expected a port number' }).int().min(1).max(65535).optional(),
  ENV_ENCRYPTION_KEY: envEncryptionKey,
  BUILD_WORK_DIR: z.string().min(1).default('/tmp/deploysphere-builds'),
  DEPLOYSPHERE_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  DASHBOARD_DIR: z.string().optional(),
  EDGE_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  CLOUDFLARE_ACCOUNT_ID: z.string().min(1).optional(),
  CLOUDFLARE_KV_NAMESPACE_ID: z.string().min(1).optional(),
  CLOUDFLARE_API_TOKEN: z.string().min(1).optional(),
  ALLOW_LOCAL_REPOS: envBoolean(false),
});

export interface ControlPlaneConfig {
  host: string;
  port: number;
  logLevel: (typeof LOG_LEVELS)[number];
  databaseUrl: string;
  natsUrl: string;
  natsAuth: NatsClientAuth;
  clickhouse: { url: string } | { chdbPath: string };
  rootDomain: string;
  /** How sites' URLs are printed: `<protocol>://<host>[:<port>]`. */
  sites: { protocol: 'http' | 'https'; port?: number };
  /** AES-256-GCM key for project env values at rest. */
  envEncryptionKey: Buffer;
  build: BuildLimits;
  /** Base URL of the edge; its /healthz on the bare root domain is part of /readyz. */
  edgeUrl?: string;
  adminToken: string;
  /** Bearer token the edge presents when it posts request metrics; unset disables the endpoint. */
  edgeMetricsToken?: string;
  dashboardDir?: string;
  allowLocalRepos: boolean;
  regions: Region[];
  storage: StorageTarget[];
  buildConcurrency: number;
  /** Build log lines older than this are dropped by ClickHouse's TTL. */
  logRetentionDays: number;
  /** Workers KV through the REST API (standalone control plane only). */
  cloudflare?: { accountId: string; namespaceId: string; apiToken: string };
}

/** The standalone control plane's configuration (`control-plane/src/server.ts`). */
export function loadControlPlaneConfig(env: Record<string, string | undefined>): ControlPlaneConfig {
  const parsed = parseConfig(ControlPlaneEnvSchema, env, 'control plane');
  const { storage, problems } = readRegionStorageEnv(env, parsed.REGIONS);
  const nats = readNatsAuthEnv(env, true);
  problems.push(...nats.problems);
  for (const s of storage) {
    if (!s.bucket) problems.push(`  ${storageEnvPrefix(s.region)}BUCKET: is required for region ${s.region}`);
  }
  if (!parsed.CLICKHOUSE_URL && !parsed.CLICKHOUSE_CHDB_PATH) {
    problems.push('  CLICKHOUSE_URL: is required (or CLICKHOUSE_CHDB_PATH for embedded chDB)');
  }
  const cf = [parsed.CLOUDFLARE_ACCOUNT_ID, parsed.CLOUDFLARE_KV_NAMESPACE_ID, parsed.CLOUDFLARE_API_TOKEN];
  if (cf.some((v) => v === undefined)) {
    problems.push(
      '  CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_KV_NAMESPACE_ID, CLOUDFLARE_API_TOKEN: all are required, ' +
        'so the control plane can write route records to Workers KV',
    );
  }
  if (problems.length > 0) throw configError('control plane', problems);
  return {
    host: parsed.HOST,
    port: parsed.PORT,
    logLevel: parsed.LOG_LEVEL,
    databaseUrl: parsed.DATABASE_URL!,
    natsUrl: parsed.NATS_URL!,
    natsAuth: nats.auth!,
    clickhouse: parsed.CLICKHOUSE_URL
      ? { url: parsed.CLICKHOUSE_URL }
      : { chdbPath: parsed.CLICKHOUSE_CHDB_PATH! },
    rootDomain: parsed.ROOT_DOMAIN,
    sites: { protocol: parsed.SITES_PROTOCOL, ...(parsed.SITES_PORT ? { port: parsed.SITES_PORT } : {}) },
    envEncryptionKey: parsed.ENV_ENCRYPTION_KEY,
    build: buildLimitsFrom(parsed, parsed.BUILD_WORK_DIR),
    ...(parsed.EDGE_URL ? { edgeUrl: parsed.EDGE_URL } : {}),
    adminToken: parsed.DEPLOYSPHERE_ADMIN_TOKEN,
    ...(parsed.EDGE_METRICS_TOKEN ? { edgeMetricsToken: parsed.EDGE_METRICS_TOKEN } : {}),
    cloudflare: {
      accountId: parsed.CLOUDFLARE_ACCOUNT_ID!,
      namespaceId: parsed.CLOUDFLARE_KV_NAMESPACE_ID!,
      apiToken: parsed.CLOUDFLARE_API_TOKEN!,
    },
    ...(parsed.DASHBOARD_DIR ? { dashboardDir: parsed.DASHBOARD_DIR } : {}),
    allowLocalRepos: parsed.ALLOW_LOCAL_REPOS,
    regions: parsed.REGIONS,
    storage: storage.map((s) => ({ ...s, bucket: s.bucket! })),
    buildConcurrency: parsed.BUILD_CONCURRENCY,
    logRetentionDays: parsed.LOG_RETENTION_DAYS,
  };
}

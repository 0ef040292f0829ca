import { resolve } from 'node:path';
import { envBoolean, envPort, envUrl, parseConfig } from '@deploysphere/contracts';
import { z } from 'zod';
import {
  envEncryptionKey,
  logLevel,
  readNatsAuthEnv,
  readRegionStorageEnv,
  reportProblems,
  sharedEnvShape,
  storageEnvPrefix,
} from '../config.js';

/** `npm start`'s variables. Unknown keys are kept: the per-region S3 variables are named after REGIONS. */
const LocalEnv = z.looseObject({
  DATA_DIR: z.string().min(1).default('.data'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: envPort(3000),
  EDGE_PORT: envPort(8787),
  LOG_LEVEL: logLevel('warn'),
  DATABASE_URL: envUrl(['postgres', 'postgresql']),
  NATS_URL: envUrl(['nats', 'tls', 'ws', 'wss']),
  CLICKHOUSE_URL: envUrl(['http', 'https']),
  /** An existing Prometheus: then none is started here (it scrapes what its own config names). */
  PROMETHEUS_URL: envUrl(['http', 'https']),
  ...sharedEnvShape,
  ENV_ENCRYPTION_KEY: envEncryptionKey.optional(),
  DEPLOYSPHERE_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  ALLOW_LOCAL_REPOS: envBoolean(true),
  /** `ecs`: every build goes through the ECS API, to a local ECS endpoint per region unless configured. */
  BUILD_RUNNER: z.enum(['local', 'ecs'], { error: 'expected local or ecs' }).default('local'),
});

const LocalPlatformConfigSchema = LocalEnv.transform((env, ctx) => {
  const { storage, problems } = readRegionStorageEnv(env, env.REGIONS);
  const nats = readNatsAuthEnv(env, env.NATS_URL !== undefined);
  problems.push(...nats.problems);
  for (const s of storage) {
    if (s.endpoint && !s.bucket) {
      const prefix = storageEnvPrefix(s.region);
      problems.push({ variable: `${prefix}BUCKET`, message: `is required with ${prefix}ENDPOINT` });
    }
  }
  reportProblems(ctx, problems);
  if (problems.length > 0) return z.NEVER;
  return {
    DATA_DIR: resolve(env.DATA_DIR),
    HOST: env.HOST,
    PORT: env.PORT,
    EDGE_PORT: env.EDGE_PORT,
    LOG_LEVEL: env.LOG_LEVEL,
    DATABASE_URL: env.DATABASE_URL,
    NATS_URL: env.NATS_URL,
    CLICKHOUSE_URL: env.CLICKHOUSE_URL,
    PROMETHEUS_URL: env.PROMETHEUS_URL,
    ROOT_DOMAIN: env.ROOT_DOMAIN,
    REGIONS: env.REGIONS,
    ALLOW_UNSANDBOXED_BUILDS: env.ALLOW_UNSANDBOXED_BUILDS,
    ENV_ENCRYPTION_KEY: env.ENV_ENCRYPTION_KEY,
    DEPLOYSPHERE_ADMIN_TOKEN: env.DEPLOYSPHERE_ADMIN_TOKEN,
    ALLOW_LOCAL_REPOS: env.ALLOW_LOCAL_REPOS,
    BUILD_RUNNER: env.BUILD_RUNNER,
    /** Per region: a configured S3 service, or nothing (an embedded s3rver then serves it). */
    storage,
    /** With NATS_URL: the control plane's credentials for that server (the embedded one makes its own). */
    ...(nats.auth ? { natsAuth: nats.auth } : {}),
  };
});

/** With NATS_URL, the control plane authenticates with these, as a standalone one does. */
const NATS_AUTH_VARIABLES = ['NATS_CREDS_FILE', 'NATS_BUILD_SIGNING_KEY', 'NATS_TLS_CA_FILE'];

export type LocalPlatformConfig = z.output<typeof LocalPlatformConfigSchema> & {
  /**
   * Variables handed to the control plane as they were given: the settings it shares with `npm
   * start` (regions, build limits, …) and, with NATS_URL, its NATS credentials. The platform adds
   * the ones it resolves (DATABASE_URL, …) and builds the control plane's config from them all.
   */
  controlPlaneEnv: Record<string, string>;
};

/** `npm start`'s configuration: every service optional, each unset one embedded. */
export function loadLocalPlatformConfig(env: Record<string, string | undefined>): LocalPlatformConfig {
  const config = parseConfig(LocalPlatformConfigSchema, env, 'DeploySphere');
  const passed = [
    ...Object.keys(sharedEnvShape),
    ...(config.NATS_URL ? NATS_AUTH_VARIABLES : []),
    // Behind a load balancer, workers reach whichever replica it picks (docs/production.md).
    'CONTROL_PLANE_URL',
    // ECS settings (ECS_<REGION>_CLUSTER, …, ECS_POLL_INTERVAL_MS): the control plane checks them.
    ...Object.keys(env).filter((name) => name.startsWith('ECS_')),
  ];
  const controlPlaneEnv: Record<string, string> = {};
  for (const name of passed) {
    const value = env[name];
    if (value !== undefined) controlPlaneEnv[name] = value;
  }
  return { ...config, controlPlaneEnv };
}

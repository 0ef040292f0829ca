import { resolve } from 'node:path';
import { configError, envBoolean, envPort, envUrl, parseConfig } from '@deploysphere/contracts';
import { z } from 'zod';
import {
  envEncryptionKey,
  LOG_LEVELS,
  readNatsAuthEnv,
  readRegionStorageEnv,
  sharedEnvShape,
  type NatsClientAuth,
  type RegionStorageEnv,
} from '../config.js';

const LocalEnvSchema = z.object({
  DATA_DIR: z.string().min(1).default('.data'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: envPort(3000),
  EDGE_PORT: envPort(8787),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('warn'),
  DATABASE_URL: envUrl(['postgres', 'postgresql']),
  NATS_URL: envUrl(['nats', 'tls', 'ws', 'wss']),
  CLICKHOUSE_URL: envUrl(['http', 'https']),
  ...sharedEnvShape,
  ENV_ENCRYPTION_KEY: envEncryptionKey.optional(),
  DEPLOYSPHERE_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  ALLOW_LOCAL_REPOS: envBoolean(true),
});

export type LocalPlatformConfig = Omit<z.output<typeof LocalEnvSchema>, 'DATA_DIR'> & {
  DATA_DIR: string;
  /** Per region: a configured S3 service, or nothing (an embedded s3rver then serves it). */
  storage: RegionStorageEnv[];
  /** With NATS_URL: the control plane's credentials for that server (the embedded one makes its own). */
  natsAuth?: NatsClientAuth;
};

/** `npm start`'s configuration: every service optional, each unset one embedded. */
export function loadLocalPlatformConfig(env: Record<string, string | undefined>): LocalPlatformConfig {
  const parsed = parseConfig(LocalEnvSchema, env, 'DeploySphere');
  const { storage, problems } = readRegionStorageEnv(env, parsed.REGIONS);
  const nats = readNatsAuthEnv(env, parsed.NATS_URL !== undefined);
  problems.push(...nats.problems);
  for (const s of storage) {
    if (s.endpoint && !s.bucket) {
      problems.push(`  S3 for ${s.region}: the endpoint is set, so its _BUCKET must be set too`);
    }
  }
  if (problems.length > 0) throw configError('DeploySphere', problems);
  return {
    ...parsed,
    DATA_DIR: resolve(parsed.DATA_DIR),
    storage,
    ...(nats.auth ? { natsAuth: nats.auth } : {}),
  };
}

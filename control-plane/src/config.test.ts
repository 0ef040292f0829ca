import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_REGIONS } from '@deploysphere/contracts';
import { NatsAuthority, parseCredentials } from '@deploysphere/stack/nats-auth';
import { afterAll, describe, expect, it } from 'vitest';
import {
  loadControlPlaneConfig,
  loadServerConfig,
  readRegionStorageEnv,
  storageTargetEnv,
} from './config.js';
import { loadLocalPlatformConfig } from './local/config.js';

// A real NATS setup's files: the control plane's .creds and the build signing key.
const authority = NatsAuthority.generate();
const natsDir = mkdtempSync(join(tmpdir(), 'ds-config-'));
const credsFile = join(natsDir, 'control-plane.creds');
const credentials = await authority.controlPlaneCredentials();
writeFileSync(credsFile, credentials, { mode: 0o600 });
writeFileSync(join(natsDir, 'not.creds'), 'hello\n');
afterAll(() => rmSync(natsDir, { recursive: true, force: true }));

const nats = {
  NATS_CREDS_FILE: credsFile,
  NATS_BUILD_SIGNING_KEY: authority.identities.buildSigningKeySeed,
};

const valid = {
  DATABASE_URL: 'postgresql://u:p@db:5432/deploysphere',
  NATS_URL: 'nats://nats:4222',
  ...nats,
  CLICKHOUSE_URL: 'http://clickhouse:8123',
  DEPLOYSPHERE_ADMIN_TOKEN: 'a-long-enough-admin-token',
  CLOUDFLARE_ACCOUNT_ID: 'acc',
  CLOUDFLARE_KV_NAMESPACE_ID: 'ns',
  CLOUDFLARE_API_TOKEN: 'cf',
  S3_US_EAST_1_BUCKET: 'ds-use1',
  S3_EU_WEST_1_BUCKET: 'ds-euw1',
  S3_AP_SOUTHEAST_1_BUCKET: 'ds-apse1',
  ENV_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('control plane configuration', () => {
  it('parses a complete environment with defaults', () => {
    const config = loadControlPlaneConfig(valid);
    expect(config).toMatchObject({
      port: 3000,
      rootDomain: 'localhost',
      allowLocalRepos: false,
      clickhouse: { url: 'http://clickhouse:8123' },
      regions: DEFAULT_REGIONS,
    });
    expect(config.storage.map((s) => s.bucket)).toEqual(['ds-use1', 'ds-euw1', 'ds-apse1']);
    expect(config.natsAuth).toEqual({
      credentials,
      buildSigningKey: authority.identities.buildSigningKeySeed,
    });
  });

  it.each([
    [
      { DATABASE_URL: 'mysql://x' },
      /DATABASE_URL: expected a URL starting with postgres:\/\/ or postgresql:\/\//,
    ],
    [{ DATABASE_URL: undefined }, /DATABASE_URL: is required/],
    [{ PORT: 'eighty' }, /PORT: expected a port number$/m],
    [{ PORT: '70000' }, /PORT: expected a port between 0 and 65535/],
    [{ DEPLOYSPHERE_ADMIN_TOKEN: 'short' }, /DEPLOYSPHERE_ADMIN_TOKEN: must be at least 16 characters/],
    [{ DEPLOYSPHERE_ADMIN_TOKEN: undefined }, /DEPLOYSPHERE_ADMIN_TOKEN: is required/],
    [{ CLICKHOUSE_URL: undefined }, /CLICKHOUSE_URL: is required \(or CLICKHOUSE_CHDB_PATH/],
    [{ ALLOW_LOCAL_REPOS: 'maybe' }, /ALLOW_LOCAL_REPOS: expected true or false/],
    [{ REGIONS: '[{"id":"Bad Id"}]' }, /REGIONS: 0\.id: expected a region id/],
    [{ REGIONS: 'not json' }, /REGIONS: expected a JSON array/],
    [{ S3_EU_WEST_1_BUCKET: undefined }, /S3_EU_WEST_1_BUCKET: is required for region eu-west-1/],
    [{ S3_US_EAST_1_ENDPOINT: 'ftp://x' }, /S3_US_EAST_1_ENDPOINT: expected an http:\/\/ or https:\/\/ URL/],
    [{ ENV_ENCRYPTION_KEY: 'c2hvcnQ=' }, /ENV_ENCRYPTION_KEY: expected 32 bytes, base64-encoded/],
    [{ BUILD_MEMORY_MB: '512' }, /BUILD_MEMORY_MB: expected at least 1024/],
    [{ SITES_PROTOCOL: 'ftp' }, /SITES_PROTOCOL: expected http or https/],
    [{ NATS_CREDS_FILE: undefined }, /NATS_CREDS_FILE: is required/],
    [
      { NATS_CREDS_FILE: '/nonexistent/cp.creds' },
      /NATS_CREDS_FILE: cannot use "\/nonexistent\/cp.creds": ENOENT/,
    ],
    [{ NATS_CREDS_FILE: join(natsDir, 'not.creds') }, /NATS_CREDS_FILE: .*not NATS user credentials/],
    [{ NATS_BUILD_SIGNING_KEY: undefined }, /NATS_BUILD_SIGNING_KEY: is required/],
    [{ NATS_TLS_CA_FILE: '/nonexistent/ca.pem' }, /NATS_TLS_CA_FILE: cannot read/],
  ])('names the variable when %o is wrong', (override, expected) => {
    expect(messageOf(() => loadControlPlaneConfig({ ...valid, ...override }))).toMatch(expected);
  });

  it('never quotes a value: many are secrets', () => {
    const secrets = {
      ENV_ENCRYPTION_KEY: 'c2VjcmV0LWtleS12YWx1ZQ==',
      DEPLOYSPHERE_ADMIN_TOKEN: 'admin-secret',
      DATABASE_URL: 'mysql://user:db-password@db/x',
      EDGE_METRICS_TOKEN: 'edge-secret',
    };
    const message = messageOf(() => loadControlPlaneConfig({ ...valid, ...secrets }));
    for (const name of Object.keys(secrets)) expect(message).toContain(`  ${name}: `);
    for (const value of ['c2VjcmV0', 'admin-secret', 'db-password', 'edge-secret']) {
      expect(message).not.toContain(value);
    }
    // Storage variables are checked once the others parse; they are not quoted either.
    const storage = messageOf(() =>
      loadControlPlaneConfig({ ...valid, S3_US_EAST_1_ENDPOINT: 'ftp://key:s3-secret@s3' }),
    );
    expect(storage).toContain('  S3_US_EAST_1_ENDPOINT: ');
    expect(storage).not.toContain('s3-secret');
  });

  it('never quotes a bad NATS signing key: it is a secret', () => {
    // A user's seed (SU…) where an account signing key (SA…) belongs.
    const userSeed = parseCredentials(credentials).seed;
    const message = messageOf(() => loadControlPlaneConfig({ ...valid, NATS_BUILD_SIGNING_KEY: userSeed }));
    expect(message).toContain('NATS_BUILD_SIGNING_KEY: expected an account nkey seed');
    expect(message).not.toContain(userSeed.slice(2));
  });

  it('reports every problem at once, one line per variable', () => {
    const message = messageOf(() => loadControlPlaneConfig({ ...valid, PORT: 'x', NATS_URL: 'http://nats' }));
    expect(message.split('\n')).toEqual([
      'Invalid control plane configuration:',
      expect.stringMatching(/^ {2}PORT: /),
      expect.stringMatching(/^ {2}NATS_URL: /),
    ]);
  });
});

describe('standalone server configuration', () => {
  it('adds the Workers KV credentials to the control plane config', () => {
    const { controlPlane, cloudflareKv } = loadServerConfig(valid);
    expect(controlPlane).toEqual(loadControlPlaneConfig(valid));
    expect(cloudflareKv).toEqual({ accountId: 'acc', namespaceId: 'ns', apiToken: 'cf' });
  });

  it('names each missing Cloudflare variable, with the other problems', () => {
    const message = messageOf(() =>
      loadServerConfig({ ...valid, CLOUDFLARE_API_TOKEN: undefined, CLOUDFLARE_ACCOUNT_ID: '', PORT: 'x' }),
    );
    expect(message).toMatch(/^ {2}PORT: /m);
    expect(message).toMatch(
      /^ {2}CLOUDFLARE_API_TOKEN: is required \(so the control plane can write route records/m,
    );
    expect(message).toMatch(/^ {2}CLOUDFLARE_ACCOUNT_ID: is required/m);
  });
});

describe('region storage variables', () => {
  it('read back as the targets they were written from', () => {
    const targets = [
      {
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9000',
        bucket: 'ds-use1',
        forcePathStyle: true,
        accessKeyId: 'K',
        secretAccessKey: 'S',
      },
      { region: 'eu-west-1', bucket: 'ds-euw1', forcePathStyle: false },
    ];
    // Stale variables of the same regions are overwritten, not merged.
    const env = {
      S3_EU_WEST_1_ENDPOINT: 'http://old:9000',
      ...Object.assign({}, ...targets.map(storageTargetEnv)),
    };
    const { storage, problems } = readRegionStorageEnv(env, DEFAULT_REGIONS.slice(0, 2));
    expect(problems).toEqual([]);
    expect(storage).toEqual(targets);
  });
});

describe('local platform configuration', () => {
  it('needs nothing: every service is embedded by default', () => {
    const config = loadLocalPlatformConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      EDGE_PORT: 8787,
      ROOT_DOMAIN: 'localhost',
      ALLOW_LOCAL_REPOS: true,
    });
    expect(config.DATA_DIR).toMatch(/\.data$/);
    expect(config.storage.every((s) => s.endpoint === undefined)).toBe(true);
  });

  it('uses a configured S3 endpoint per region and names the missing bucket', () => {
    expect(messageOf(() => loadLocalPlatformConfig({ S3_EU_WEST_1_ENDPOINT: 'http://minio:9000' }))).toMatch(
      /S3_EU_WEST_1_BUCKET: is required with S3_EU_WEST_1_ENDPOINT/,
    );
    const config = loadLocalPlatformConfig({
      S3_EU_WEST_1_ENDPOINT: 'http://minio:9000',
      S3_EU_WEST_1_BUCKET: 'sites',
    });
    expect(config.storage.find((s) => s.region === 'eu-west-1')).toMatchObject({
      endpoint: 'http://minio:9000',
      bucket: 'sites',
      forcePathStyle: true,
    });
  });

  it('needs NATS credentials with NATS_URL, and none without it', () => {
    expect(messageOf(() => loadLocalPlatformConfig({ NATS_URL: 'nats://nats:4222' }))).toMatch(
      /NATS_CREDS_FILE: is required[^]*NATS_BUILD_SIGNING_KEY: is required/,
    );
    expect(messageOf(() => loadLocalPlatformConfig(nats))).toMatch(
      /NATS_CREDS_FILE: only used with NATS_URL[^]*NATS_BUILD_SIGNING_KEY: only used with NATS_URL/,
    );
    expect(loadLocalPlatformConfig({ NATS_URL: 'nats://nats:4222', ...nats }).natsAuth?.credentials).toBe(
      credentials,
    );
    expect(loadLocalPlatformConfig({}).natsAuth).toBeUndefined();
  });

  it.each([
    [{ DATABASE_URL: 'not a url' }, /DATABASE_URL: expected a URL/],
    [{ EDGE_PORT: '-1' }, /EDGE_PORT: expected a port between 0 and 65535/],
    [{ ROOT_DOMAIN: 'Has Spaces' }, /ROOT_DOMAIN: expected a lowercase domain name/],
  ])('names the variable when %o is wrong', (override, expected) => {
    expect(messageOf(() => loadLocalPlatformConfig(override))).toMatch(expected);
  });
});

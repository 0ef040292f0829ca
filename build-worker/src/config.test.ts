import { ConfigError } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import {
  BUILD_SETTING_VARIABLES,
  BuildSettingsEnvSchema,
  DEFAULT_BUILD_SETTINGS,
  loadWorkerConfig,
  settingsToEnv,
  workerEnv,
  type BuildSettings,
} from './config.js';

const spec = {
  v: 1,
  deploymentId: 'a'.repeat(24),
  projectSlug: 'my-site',
  repoUrl: 'https://example.com/repo.git',
  gitRef: null,
  installCommand: 'npm install',
  buildCommand: 'npm run build',
  outputDir: null,
  rootDir: null,
  env: { API_TOKEN: 'super-secret-token' },
  storage: [{ region: 'eu-west', bucket: 'sites', accessKeyId: 'AKIA', secretAccessKey: 'very-secret-key' }],
};

function error(env: Record<string, string>): string {
  try {
    loadWorkerConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadWorkerConfig', () => {
  it('parses the spec and applies defaults', () => {
    const config = loadWorkerConfig({
      DEPLOYSPHERE_BUILD_SPEC: JSON.stringify(spec),
      BUILD_TIMEOUT_MS: '60000',
    });
    expect(config.spec.deploymentId).toBe('a'.repeat(24));
    expect(config.spec.storage[0]?.forcePathStyle).toBe(true);
    expect(config.natsUrl).toBeUndefined();
    expect(config.settings).toMatchObject({ timeoutMs: 60_000, memoryMb: 16384, allowUnsandboxed: false });
  });

  it('names every bad variable in one message', () => {
    const message = error({
      BUILD_TIMEOUT_MS: 'soon',
      BUILD_MEMORY_MB: '64',
      ALLOW_UNSANDBOXED_BUILDS: 'maybe',
      NATS_URL: 'http://x',
    });
    expect(message).toMatch(/^Invalid build worker configuration:/);
    for (const name of [
      'DEPLOYSPHERE_BUILD_SPEC',
      'BUILD_TIMEOUT_MS',
      'BUILD_MEMORY_MB',
      'ALLOW_UNSANDBOXED_BUILDS',
      'NATS_URL',
    ]) {
      expect(message).toContain(`  ${name}:`);
    }
  });

  it("needs the build's NATS credentials with NATS_URL, and never echoes them", () => {
    const base = { DEPLOYSPHERE_BUILD_SPEC: JSON.stringify(spec), NATS_URL: 'nats://127.0.0.1:4222' };
    expect(error(base)).toContain('  NATS_CREDS: is required with NATS_URL');
    const message = error({ ...base, NATS_CREDS: 'SUAGARBAGE-not-creds-at-all' });
    expect(message).toContain('  NATS_CREDS: expected NATS user credentials');
    expect(message).not.toContain('SUAGARBAGE');
    expect(error({ DEPLOYSPHERE_BUILD_SPEC: base.DEPLOYSPHERE_BUILD_SPEC, NATS_CREDS: 'x' })).toContain(
      '  NATS_CREDS: only used with NATS_URL',
    );
    const creds =
      '-----BEGIN NATS USER JWT-----\nj\n------END NATS USER JWT------\n-----BEGIN USER NKEY SEED-----\ns\n';
    expect(loadWorkerConfig({ ...base, NATS_CREDS: creds })).toMatchObject({
      natsUrl: 'nats://127.0.0.1:4222',
      natsCredentials: creds,
    });
  });

  it('reports a bad spec by field without echoing its secrets', () => {
    expect(error({ DEPLOYSPHERE_BUILD_SPEC: '{not json' })).toContain(
      'DEPLOYSPHERE_BUILD_SPEC: expected JSON',
    );
    const message = error({ DEPLOYSPHERE_BUILD_SPEC: JSON.stringify({ ...spec, deploymentId: 'NOPE' }) });
    expect(message).toContain('DEPLOYSPHERE_BUILD_SPEC: deploymentId:');
    expect(message).not.toContain('super-secret-token');
    expect(message).not.toContain('very-secret-key');
  });
});

describe('settingsToEnv', () => {
  // Every setting away from its default, so a variable the worker does not read back shows; made
  // from the variable list, so a setting added later is covered too.
  const settings = Object.fromEntries(
    Object.keys(BUILD_SETTING_VARIABLES).map((key) => {
      const value: unknown = DEFAULT_BUILD_SETTINGS[key as keyof BuildSettings];
      if (typeof value === 'number') return [key, value + 1];
      if (typeof value === 'boolean') return [key, !value];
      return [key, `/srv/${key}`];
    }),
  ) as unknown as BuildSettings;

  it('is read back by the worker as the same settings, one variable per setting', () => {
    for (const [key, value] of Object.entries(settings)) {
      expect(value, key).not.toEqual(DEFAULT_BUILD_SETTINGS[key as keyof BuildSettings]);
    }
    const env = settingsToEnv(settings);
    expect(Object.keys(env).sort()).toEqual(Object.values(BUILD_SETTING_VARIABLES).sort());
    expect(BuildSettingsEnvSchema.parse(env)).toEqual(settings);
  });

  it('leaves out what is unset, so the worker uses its default', () => {
    expect(settingsToEnv({ timeoutMs: 60_000 })).toEqual({ BUILD_TIMEOUT_MS: '60000' });
    expect(BuildSettingsEnvSchema.parse(settingsToEnv({}))).toEqual(DEFAULT_BUILD_SETTINGS);
  });

  it('gives the whole environment a runner starts the worker with', () => {
    const creds =
      '-----BEGIN NATS USER JWT-----\nj\n------END NATS USER JWT------\n-----BEGIN USER NKEY SEED-----\ns\n';
    const env = workerEnv({
      spec: JSON.parse(JSON.stringify(spec)),
      natsUrl: 'nats://127.0.0.1:4222',
      natsCredentials: creds,
      settings,
    });
    const config = loadWorkerConfig(env);
    expect(config).toMatchObject({ natsUrl: 'nats://127.0.0.1:4222', natsCredentials: creds, settings });
    expect(config.spec.deploymentId).toBe(spec.deploymentId);
  });
});

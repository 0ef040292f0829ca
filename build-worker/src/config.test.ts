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

const TOKEN = 'b'.repeat(43);
const launch = {
  DEPLOYMENT_ID: 'a'.repeat(24),
  CONTROL_PLANE_URL: 'http://127.0.0.1:3000',
  BOOTSTRAP_TOKEN: TOKEN,
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
  it('reads the launch and applies defaults', () => {
    const config = loadWorkerConfig({ ...launch, BUILD_TIMEOUT_MS: '60000' });
    expect(config).toMatchObject({
      deploymentId: 'a'.repeat(24),
      controlPlaneUrl: 'http://127.0.0.1:3000',
      bootstrapToken: TOKEN,
      natsUrl: undefined,
    });
    expect(config.settings).toMatchObject({
      timeoutMs: 60_000,
      memoryMb: 16384,
      allowUnsandboxed: false,
      sandbox: 'bwrap',
    });
    expect(loadWorkerConfig({ ...launch, BUILD_SANDBOX: 'unprivileged' }).settings.sandbox).toBe(
      'unprivileged',
    );
  });

  it('names every bad variable in one message', () => {
    const message = error({
      BUILD_TIMEOUT_MS: 'soon',
      BUILD_MEMORY_MB: '64',
      ALLOW_UNSANDBOXED_BUILDS: 'maybe',
      BUILD_SANDBOX: 'chroot',
      NATS_URL: 'http://x',
    });
    expect(message).toMatch(/^Invalid build worker configuration:/);
    for (const name of [
      'DEPLOYMENT_ID',
      'CONTROL_PLANE_URL',
      'BOOTSTRAP_TOKEN',
      'BUILD_TIMEOUT_MS',
      'BUILD_MEMORY_MB',
      'ALLOW_UNSANDBOXED_BUILDS',
      'BUILD_SANDBOX',
      'NATS_URL',
    ]) {
      expect(message).toContain(`  ${name}:`);
    }
  });

  it('never echoes a malformed bootstrap token', () => {
    const message = error({ ...launch, BOOTSTRAP_TOKEN: 'not a token: s3cr3t-value' });
    expect(message).toContain('  BOOTSTRAP_TOKEN: expected a base64url token; the value is not shown');
    expect(message).not.toContain('s3cr3t-value');
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
      if (key === 'sandbox') return [key, 'unprivileged'];
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

  it('gives the whole environment a runner starts the worker with: no spec, no credentials', () => {
    const env = workerEnv({
      deploymentId: 'a'.repeat(24),
      natsUrl: 'nats://127.0.0.1:4222',
      controlPlaneUrl: 'http://127.0.0.1:3000',
      bootstrapToken: TOKEN,
      settings,
    });
    expect(Object.keys(env).sort()).toEqual(
      [
        'BOOTSTRAP_TOKEN',
        'CONTROL_PLANE_URL',
        'DEPLOYMENT_ID',
        'NATS_URL',
        ...Object.values(BUILD_SETTING_VARIABLES),
      ].sort(),
    );
    expect(loadWorkerConfig(env)).toEqual({
      deploymentId: 'a'.repeat(24),
      natsUrl: 'nats://127.0.0.1:4222',
      controlPlaneUrl: 'http://127.0.0.1:3000',
      bootstrapToken: TOKEN,
      natsTlsCaFile: undefined,
      settings,
    });
  });
});

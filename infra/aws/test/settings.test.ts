import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InfraSettingsError, parseInfraSettings } from '../src/settings.js';
import { committedSettings, committedSettingsJson, INFRA_DIR } from './helpers.js';

const withBuild = (build: Record<string, unknown>) => ({
  ...committedSettingsJson(),
  build: { ...(committedSettingsJson().build as object), ...build },
});

describe('settings.json', () => {
  it('parses, with a placeholder account and the three default regions', () => {
    const s = committedSettings();
    expect(s.account).toBe('111111111111');
    expect(s.regions.map((r) => r.region)).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-1']);
    expect(s.regions[0]!.build).toMatchObject({ cpu: 2048, memoryMiB: 8192, cacheExpirationDays: 14 });
  });

  it('has the availability zones of every region in cdk.context.json, so synth looks nothing up', () => {
    const context = JSON.parse(readFileSync(`${INFRA_DIR}/cdk.context.json`, 'utf8')) as Record<
      string,
      unknown
    >;
    const s = committedSettings();
    for (const r of s.regions) {
      const key = `availability-zones:account=${s.account}:region=${r.region}`;
      expect(context[key], key).toBeInstanceOf(Array);
      expect((context[key] as string[]).length, key).toBeGreaterThanOrEqual(r.maxAzs);
    }
  });

  it('lets a region override the shared build settings', () => {
    const s = parseInfraSettings({
      ...committedSettingsJson(),
      regions: [
        { id: 'us-east-1' },
        { id: 'eu-west-1', build: { cpu: 4096, memoryMiB: 8192, limits: { MAX_OUTPUT_FILES: 9 } } },
      ],
    });
    expect(s.regions[0]!.build.cpu).toBe(2048);
    expect(s.regions[1]!.build).toMatchObject({ cpu: 4096, memoryMiB: 8192 });
    // Limits merge: the shared timeout stays, the region adds its own.
    expect(s.regions[1]!.build.limits).toEqual({
      BUILD_TIMEOUT_MS: 900000,
      BUILD_CACHE_EXPIRY_DAYS: 7,
      MAX_OUTPUT_FILES: 9,
    });
  });
});

describe('refused settings', () => {
  const problems = (json: unknown) => {
    try {
      parseInfraSettings(json, 'test settings');
    } catch (err) {
      expect(err).toBeInstanceOf(InfraSettingsError);
      return (err as Error).message;
    }
    throw new Error('expected the settings to be refused');
  };

  it('a memory size Fargate does not offer for the CPU', () => {
    expect(problems(withBuild({ cpu: 1024, memoryMiB: 16384 }))).toContain(
      'regions.0.build.memoryMiB: 16384 MiB is not a Fargate size for 1024 CPU units',
    );
  });

  it('a secret-looking variable in the task environment', () => {
    const message = problems(
      withBuild({ environment: { NATS_CREDS: 'x', GIT_TOKEN: 'y', LOG_FORMAT: 'json' } }),
    );
    expect(message).toContain('build.environment.NATS_CREDS');
    expect(message).toContain('build.environment.GIT_TOKEN');
    expect(message).not.toContain('LOG_FORMAT');
    // The value is never quoted.
    expect(message).not.toMatch(/: 'x'|"x"/);
  });

  it('a cache lifecycle shorter than the worker keeps caches alive', () => {
    expect(problems(withBuild({ cacheExpirationDays: 3 }))).toContain(
      'regions.0.build.cacheExpirationDays: must be at least BUILD_CACHE_EXPIRY_DAYS (7)',
    );
  });

  it('a bad account and an unknown key, in one message', () => {
    const message = problems({ ...committedSettingsJson(), account: '1234', extra: true });
    expect(message).toContain('account: expected a 12-digit AWS account id');
    expect(message).toContain('(root)');
    expect(message.split('\n')).toHaveLength(3);
  });

  it('a region listed twice', () => {
    const twice = { ...committedSettingsJson(), regions: [{ id: 'us-east-1' }, { id: 'us-east-1' }] };
    expect(problems(twice)).toContain('regions: region ids must be unique');
  });

  it('a storage size Fargate does not offer', () => {
    expect(problems(withBuild({ ephemeralStorageGiB: 500 }))).toContain('build.ephemeralStorageGiB');
  });
});

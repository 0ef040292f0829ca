import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildSpec, StorageTarget } from '@deploysphere/contracts';
import { startS3rver, S3RVER_CREDENTIALS, type EmbeddedS3 } from '@deploysphere/stack';
import { runBuild } from '../src/build.js';
import { DEFAULT_BUILD_SETTINGS, type BuildSettings } from '../src/config.js';
import { MemoryEventSink } from '../src/events.js';
import { CollectingLogSink } from '../src/log-sink.js';
import { deploymentId, inProcessGrants, tempDir, type TestRepo } from './helpers.js';

export interface ZeroConfigEnv {
  root: string;
  server: EmbeddedS3;
  target: StorageTarget;
  settings: BuildSettings;
  stop(): Promise<void>;
}

/** One s3rver region (the primary, where the cache lives) and a work directory. */
export async function startZeroConfigEnv(): Promise<ZeroConfigEnv> {
  const root = await tempDir('bw-zero-');
  const server = await startS3rver({ directory: join(root, 's3'), buckets: ['region-a'] });
  const target: StorageTarget = {
    region: 'eu-west',
    endpoint: server.endpoint,
    bucket: 'region-a',
    forcePathStyle: true,
    ...S3RVER_CREDENTIALS,
  };
  return {
    root,
    server,
    target,
    settings: {
      ...DEFAULT_BUILD_SETTINGS,
      workDir: join(root, 'work'),
      timeoutMs: 600_000,
      memoryMb: Number(process.env.TEST_BUILD_MEMORY_MB ?? DEFAULT_BUILD_SETTINGS.memoryMb),
      heartbeatIntervalMs: 1000,
    },
    async stop() {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A spec with nothing set but the repository and the slug: every command is detected. */
export function zeroConfigSpec(
  env: ZeroConfigEnv,
  repo: TestRepo,
  overrides: Partial<BuildSpec> = {},
): BuildSpec {
  return {
    v: 1,
    previousDeployments: [],
    deploymentId: deploymentId(),
    projectSlug: 'zero-config',
    repoUrl: repo.url,
    gitRef: null,
    installCommand: null,
    buildCommand: null,
    outputDir: null,
    rootDir: null,
    env: {},
    storage: [env.target],
    ...overrides,
  };
}

/** Runs a build and waits for its cache save too, so the next build can use it. */
export async function buildAndSave(env: ZeroConfigEnv, spec: BuildSpec) {
  const events = new MemoryEventSink();
  const logs = new CollectingLogSink();
  const result = await runBuild(spec, {
    settings: env.settings,
    events,
    logs,
    grants: inProcessGrants(spec, [env.target]),
  });
  const saved = result.status === 'uploaded' ? await result.cacheSave : null;
  if (result.status !== 'uploaded') {
    throw new Error(
      `build failed: ${result.status === 'failed' ? result.error : 'cancelled'}\n${logs.text().slice(-4000)}`,
    );
  }
  return { result, events, logs, saved };
}

export { npmLockfile } from './starters.js';

/** Phase durations for the log: the numbers are shown, never asserted. */
export function phases(stats: { phaseDurationsMs: Record<string, number | undefined> }): string {
  return Object.entries(stats.phaseDurationsMs)
    .map(([k, v]) => `${k} ${((v ?? 0) / 1000).toFixed(1)} s`)
    .join(', ');
}

import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  BuildEventSchema,
  manifestKey,
  STREAMS,
  subjects,
  type BuildEvent,
  type BuildSpec,
} from '@deploysphere/contracts';
import {
  parseCredentials,
  startS3rver,
  S3RVER_CREDENTIALS,
  type EmbeddedNats,
  type EmbeddedS3,
} from '@deploysphere/stack';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../src/s3-client.js';
import {
  createRepo,
  deploymentId,
  processesWithMarker,
  startNats,
  tempDir,
  waitFor,
  type TestRepo,
} from './helpers.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
let root: string;
let nats: EmbeddedNats;
let nc: NatsConnection;
let s3: EmbeddedS3;
let repo: TestRepo;

beforeAll(async () => {
  root = await tempDir('bw-main-');
  [nats, s3] = await Promise.all([
    startNats(),
    startS3rver({ directory: join(root, 's3'), buckets: ['sites'] }),
  ]);
  nc = await nats.connect();
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAMS.buildEvents, subjects: [subjects.buildEventsAll] });
  await jsm.streams.add({ name: STREAMS.buildLogs, subjects: [subjects.buildLogsAll] });
  repo = await createRepo({ 'public/index.html': '<h1>cli</h1>' });
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

function specFor(overrides: Partial<BuildSpec> = {}): BuildSpec {
  return {
    v: 1,
    previousDeployments: [],
    deploymentId: deploymentId(),
    projectSlug: 'cli-site',
    repoUrl: repo.url,
    gitRef: 'main',
    installCommand: '',
    buildCommand: '',
    outputDir: null,
    rootDir: null,
    env: {},
    storage: [
      {
        region: 'eu-west',
        endpoint: s3.endpoint,
        bucket: 'sites',
        forcePathStyle: true,
        ...S3RVER_CREDENTIALS,
      },
    ],
    ...overrides,
  };
}

function runWorker(env: Record<string, string>): {
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', join(packageDir, 'src/main.ts')], {
    cwd: packageDir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', WORK_DIR: join(root, 'work'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))) };
}

/** NATS settings as the LocalRunner passes them: the URL and this build's own credentials. */
async function natsEnv(spec: BuildSpec, ttlMs = 10 * 60_000): Promise<Record<string, string>> {
  return { NATS_URL: nats.url, NATS_CREDS: await nats.signer.mintBuildCredentials(spec.deploymentId, ttlMs) };
}

async function eventsFor(id: string): Promise<BuildEvent[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(STREAMS.buildEvents);
  const stream = await jetstream(nc).streams.get(STREAMS.buildEvents);
  const out: BuildEvent[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const msg = await stream.getMessage({ seq });
    if (msg?.subject === subjects.buildEvent(id)) out.push(BuildEventSchema.parse(msg.json()));
  }
  return out;
}

describe('build worker CLI (src/main.ts)', () => {
  it('exits 2 with one readable message naming the bad variables', async () => {
    const { code, stderr } = await runWorker({ BUILD_TIMEOUT_MS: 'later' }).done;
    expect(code).toBe(2);
    expect(stderr).toMatch(/Invalid build worker configuration:\n {2}DEPLOYSPHERE_BUILD_SPEC: is required/);
    expect(stderr).toContain('BUILD_TIMEOUT_MS: expected a number');
    expect(stderr).not.toContain('    at ');
  });

  it('builds, uploads and reports events and logs over JetStream with its own credentials, exiting 0', async () => {
    const spec = specFor();
    const { code, stderr } = await runWorker({
      DEPLOYSPHERE_BUILD_SPEC: JSON.stringify(spec),
      ...(await natsEnv(spec)),
    }).done;
    expect(code, stderr).toBe(0);
    expect(stderr).not.toContain('Violation');
    const logs = await (
      await jetstreamManager(nc)
    ).streams.info(STREAMS.buildLogs, {
      subjects_filter: subjects.buildLog(spec.deploymentId),
    });
    expect(logs.state.subjects?.[subjects.buildLog(spec.deploymentId)]).toBeGreaterThan(0);
    const events = await eventsFor(spec.deploymentId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ type: 'uploaded', outputDir: 'public', stats: { files: 1 } });
    const client = createS3Client(spec.storage[0]!);
    await client.send(new HeadObjectCommand({ Bucket: 'sites', Key: manifestKey(spec.deploymentId) }));
    client.destroy();
  });

  it('prints events as JSON lines on stdout without NATS', async () => {
    const spec = specFor({ buildCommand: 'exit 3' });
    const { code, stdout } = await runWorker({ DEPLOYSPHERE_BUILD_SPEC: JSON.stringify(spec) }).done;
    expect(code).toBe(1);
    const events = stdout
      .trim()
      .split('\n')
      .map((l) => BuildEventSchema.parse(JSON.parse(l)));
    expect(events.at(-1)).toMatchObject({ type: 'failed', error: expect.stringContaining('exit code 3') });
  });

  it('stops the build when a cancel arrives on NATS, leaving no process', async () => {
    const marker = String(500000 + Math.floor(Math.random() * 99999));
    const spec = specFor({ buildCommand: `sleep ${marker}` });
    const worker = runWorker({ DEPLOYSPHERE_BUILD_SPEC: JSON.stringify(spec), ...(await natsEnv(spec)) });
    await waitFor(async () => (await processesWithMarker(`sleep\0${marker}`)).length > 0, 30_000);
    nc.publish(subjects.buildCancel(spec.deploymentId), '');
    const { code } = await worker.done;
    expect(code).toBe(3);
    expect(await processesWithMarker(`sleep\0${marker}`)).toEqual([]);
    expect((await eventsFor(spec.deploymentId)).at(-1)).toMatchObject({
      type: 'failed',
      error: 'Build cancelled',
    });
  });

  it('exits 4 without building when NATS refuses its credentials (expired), and never prints them', async () => {
    const spec = specFor();
    const env = await natsEnv(spec, -60_000);
    const { code, stderr } = await runWorker({ DEPLOYSPHERE_BUILD_SPEC: JSON.stringify(spec), ...env }).done;
    expect(code).toBe(4);
    expect(stderr).toContain("NATS refused this build's credentials (NATS_CREDS): Authorization Violation");
    const { jwt, seed } = parseCredentials(env.NATS_CREDS!);
    expect(stderr).not.toContain(jwt);
    expect(stderr).not.toContain(seed);
    expect(await eventsFor(spec.deploymentId)).toEqual([]);
  });
});

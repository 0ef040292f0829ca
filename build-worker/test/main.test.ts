import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  blobKey,
  BuildEventSchema,
  manifestKey,
  ManifestSchema,
  STREAMS,
  subjects,
  type BuildEvent,
  type BuildSpec,
  type StorageTarget,
} from '@deploysphere/contracts';
import {
  parseCredentials,
  startS3rver,
  S3RVER_CREDENTIALS,
  type EmbeddedNats,
  type EmbeddedS3,
} from '@deploysphere/stack';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../src/s3-client.js';
import {
  createRepo,
  deploymentId,
  processesWithMarker,
  startGrantServer,
  startNats,
  tempDir,
  waitFor,
  type GrantServer,
  type TestRepo,
} from './helpers.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
let root: string;
let nats: EmbeddedNats;
let nc: NatsConnection;
let s3: EmbeddedS3;
let repo: TestRepo;
let target: StorageTarget;
let grants: GrantServer;

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
  target = {
    region: 'eu-west',
    endpoint: s3.endpoint,
    bucket: 'sites',
    forcePathStyle: true,
    ...S3RVER_CREDENTIALS,
  };
  grants = await startGrantServer([target]);
});

afterAll(async () => {
  await grants?.stop();
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
    storage: [{ region: 'eu-west' }],
    ...overrides,
  };
}

function runWorker(env: Record<string, string>): {
  pid: number;
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
  return {
    pid: child.pid!,
    done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))),
  };
}

/**
 * The environment a runner launches the worker with (LocalRunner, ECS overrides): the deployment
 * id, the URLs and a one-time bootstrap token, which the grant server exchanges for the spec and
 * this build's own NATS credentials.
 */
async function launchEnv(
  spec: BuildSpec,
  opts: { nats?: boolean; ttlMs?: number; firstEventSeq?: number } = {},
): Promise<Record<string, string>> {
  const withNats = opts.nats ?? true;
  const token = grants.launch(spec, {
    ...(withNats
      ? {
          natsCredentials: await nats.signer.mintBuildCredentials(
            spec.deploymentId,
            opts.ttlMs ?? 10 * 60_000,
          ),
        }
      : {}),
    ...(opts.firstEventSeq ? { firstEventSeq: opts.firstEventSeq } : {}),
  });
  return {
    DEPLOYMENT_ID: spec.deploymentId,
    ...(withNats ? { NATS_URL: nats.url } : {}),
    CONTROL_PLANE_URL: grants.url,
    BOOTSTRAP_TOKEN: token,
  };
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
    const { code, stderr } = await runWorker({ BUILD_TIMEOUT_MS: 'later', BUILD_SANDBOX: 'docker' }).done;
    expect(code).toBe(2);
    expect(stderr).toMatch(/Invalid build worker configuration:\n/);
    for (const name of [
      'DEPLOYMENT_ID',
      'CONTROL_PLANE_URL',
      'BOOTSTRAP_TOKEN',
      'BUILD_TIMEOUT_MS',
      'BUILD_SANDBOX',
    ])
      expect(stderr).toContain(`  ${name}:`);
    expect(stderr).toContain('BUILD_TIMEOUT_MS: expected a number');
    expect(stderr).not.toContain('    at ');
  });

  it('exchanges its bootstrap token, then builds, uploads and reports over JetStream with its own credentials', async () => {
    // The user's command records what it can see: the token must not be among it.
    const spec = specFor({
      buildCommand: 'env > public/env.txt; cat /proc/1/environ >> public/env.txt || true',
    });
    const env = await launchEnv(spec, { firstEventSeq: 7 });
    const worker = runWorker(env);
    const argv = await readFile(`/proc/${worker.pid}/cmdline`, 'utf8').catch(() => '');
    const { code, stdout, stderr } = await worker.done;
    expect(code, stderr).toBe(0);
    expect(stderr).not.toContain('Violation');
    // The token is in neither argv nor any output of the worker.
    expect(argv).not.toContain(env.BOOTSTRAP_TOKEN);
    expect(stdout + stderr).not.toContain(env.BOOTSTRAP_TOKEN);
    // Exchanged once, before anything else; the grants went with the build token, never the bootstrap one.
    const mine = grants.requests.filter(
      (r) => r.path.includes(spec.deploymentId) || r.path.endsWith('/bootstrap'),
    );
    expect(mine[0]).toMatchObject({
      path: '/internal/v1/builds/bootstrap',
      authorization: `Bearer ${env.BOOTSTRAP_TOKEN}`,
    });
    expect(mine.slice(1).every((r) => r.authorization !== `Bearer ${env.BOOTSTRAP_TOKEN}`)).toBe(true);

    const logs = await (
      await jetstreamManager(nc)
    ).streams.info(STREAMS.buildLogs, {
      subjects_filter: subjects.buildLog(spec.deploymentId),
    });
    expect(logs.state.subjects?.[subjects.buildLog(spec.deploymentId)]).toBeGreaterThan(0);
    const events = await eventsFor(spec.deploymentId);
    // A second attempt continues after the deployment's earlier events: seq from firstEventSeq.
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 7));
    expect(events.at(-1)).toMatchObject({ type: 'uploaded', outputDir: 'public', stats: { files: 2 } });
    const client = createS3Client(target);
    await client.send(new HeadObjectCommand({ Bucket: 'sites', Key: manifestKey(spec.deploymentId) }));
    const manifest = ManifestSchema.parse(
      JSON.parse(
        await (
          await client.send(new GetObjectCommand({ Bucket: 'sites', Key: manifestKey(spec.deploymentId) }))
        ).Body!.transformToString(),
      ),
    );
    const seen = await (
      await client.send(
        new GetObjectCommand({ Bucket: 'sites', Key: blobKey(manifest.files['env.txt']!.hash) }),
      )
    ).Body!.transformToString();
    client.destroy();
    expect(seen).toContain('HOME=');
    expect(seen).not.toContain(env.BOOTSTRAP_TOKEN);
    expect(seen).not.toContain('BOOTSTRAP_TOKEN');
    expect(seen).not.toContain('CONTROL_PLANE_URL');
  });

  it('prints events as JSON lines on stdout without NATS', async () => {
    const spec = specFor({ buildCommand: 'exit 3' });
    const { code, stdout } = await runWorker(await launchEnv(spec, { nats: false })).done;
    expect(code).toBe(1);
    const events = stdout
      .trim()
      .split('\n')
      .map((l) => BuildEventSchema.parse(JSON.parse(l)));
    expect(events.at(-1)).toMatchObject({ type: 'failed', error: expect.stringContaining('exit code 3') });
  });

  it('exits 4 without building when its bootstrap token was already used, and never prints it', async () => {
    const spec = specFor({ buildCommand: 'touch /tmp/should-never-run' });
    const env = await launchEnv(spec, { nats: false });
    // Someone else exchanged it first.
    const stolen = await fetch(`${grants.url}/internal/v1/builds/bootstrap`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.BOOTSTRAP_TOKEN}` },
    });
    expect(stolen.status).toBe(200);
    const { code, stdout, stderr } = await runWorker(env).done;
    expect(code).toBe(4);
    expect(stderr).toContain('the bootstrap failed');
    expect(stderr).toContain('bootstrap_token_invalid');
    expect(stdout + stderr).not.toContain(env.BOOTSTRAP_TOKEN);
    expect(stdout).toBe('');
  });

  it('stops the build when a cancel arrives on NATS, leaving no process', async () => {
    const marker = String(500000 + Math.floor(Math.random() * 99999));
    const spec = specFor({ buildCommand: `sleep ${marker}` });
    const worker = runWorker(await launchEnv(spec));
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
    const credentials = await nats.signer.mintBuildCredentials(spec.deploymentId, -60_000);
    const token = grants.launch(spec, { natsCredentials: credentials });
    const { code, stderr } = await runWorker({
      DEPLOYMENT_ID: spec.deploymentId,
      NATS_URL: nats.url,
      CONTROL_PLANE_URL: grants.url,
      BOOTSTRAP_TOKEN: token,
    }).done;
    expect(code).toBe(4);
    expect(stderr).toContain("NATS refused this build's credentials: Authorization Violation");
    const { jwt, seed } = parseCredentials(credentials);
    expect(stderr).not.toContain(jwt);
    expect(stderr).not.toContain(seed);
    expect(await eventsFor(spec.deploymentId)).toEqual([]);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeploymentView } from '@deploysphere/contracts';
import {
  freePort,
  S3RVER_CREDENTIALS,
  startEmbeddedPostgres,
  startNatsServer,
  startS3rver,
  type EmbeddedNats,
  type EmbeddedPostgresHandle,
  type EmbeddedS3,
} from '@deploysphere/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageEnvPrefix } from '../src/config.js';
import { alive, descendants, runStart, waitForOutput, type CliRun } from './cli-process.js';
import { GitRepo } from './git-repo.js';
import { visitEdge } from './harness.js';

// The control plane is killed (SIGKILL) in the middle of a build and started again. PostgreSQL,
// NATS and S3 run outside it, as in production; the build worker keeps running and reporting
// over JetStream, and the restarted control plane picks its events up where it stopped.

let dir: string;
let pg: EmbeddedPostgresHandle;
let nats: EmbeddedNats;
const s3: EmbeddedS3[] = [];
const runs: CliRun[] = [];
const TOKEN = 'restart-test-admin-token-0123456789';
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];
let env: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-restart-'));
  [pg, nats] = await Promise.all([
    startEmbeddedPostgres({ dataDir: join(dir, 'pg') }),
    startNatsServer({ storeDir: join(dir, 'nats') }),
  ]);
  await writeFile(join(dir, 'control-plane.creds'), nats.credentials, { mode: 0o600 });
  env = {
    DATA_DIR: join(dir, 'data'),
    PORT: String(await freePort()),
    EDGE_PORT: String(await freePort()),
    DATABASE_URL: pg.url,
    // NATS runs outside, as in production: the control plane gets its credentials file and the
    // key it mints build users with.
    NATS_URL: nats.url,
    NATS_CREDS_FILE: join(dir, 'control-plane.creds'),
    NATS_BUILD_SIGNING_KEY: nats.buildSigningKey,
    DEPLOYSPHERE_ADMIN_TOKEN: TOKEN,
    HEARTBEAT_TIMEOUT_MS: '60000',
  };
  for (const region of REGIONS) {
    const server = await startS3rver({ directory: join(dir, 's3', region), buckets: [`restart-${region}`] });
    s3.push(server);
    const prefix = storageEnvPrefix(region);
    Object.assign(env, {
      [`${prefix}ENDPOINT`]: server.endpoint,
      [`${prefix}BUCKET`]: `restart-${region}`,
      [`${prefix}ACCESS_KEY_ID`]: S3RVER_CREDENTIALS.accessKeyId,
      [`${prefix}SECRET_ACCESS_KEY`]: S3RVER_CREDENTIALS.secretAccessKey,
    });
  }
});

afterAll(async () => {
  for (const run of runs) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  await Promise.all(s3.map((s) => s.stop()));
  await nats?.stop();
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function start(): Promise<CliRun> {
  const run = runStart(env);
  runs.push(run);
  await waitForOutput(run, /Ready\. Press Ctrl-C to stop\./);
  return run;
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${env.PORT}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return (await res.json()) as T;
}

describe('control plane restart', () => {
  it('a deployment still reaches ready when the control plane is killed mid-build', async () => {
    const first = await start();
    const repo = await GitRepo.create({ 'README.md': 'restart' });
    await api('POST', '/projects', {
      slug: 'survivor',
      repoUrl: repo.url,
      installCommand: 'true',
      buildCommand: 'sleep 6 && mkdir -p out && echo "built across a restart" > out/index.html',
      regions: ['us-east-1'],
    });
    const { id } = await api<DeploymentView>('POST', '/projects/survivor/deployments', {});
    for (;;) {
      const d = await api<DeploymentView>('GET', `/deployments/${id}`);
      if (d.phase === 'build') break;
      expect(['queued', 'building']).toContain(d.status);
      await new Promise((r) => setTimeout(r, 100));
    }

    const below = alive(descendants(first.child.pid!));
    const worker = below.find((p) => p.includes('build-worker'));
    expect(worker).toBeDefined();
    first.child.kill('SIGKILL');
    await first.exited;
    // The edge runtime belonged to the killed process; the build worker did not and lives on.
    for (const p of below) if (p.includes('workerd')) process.kill(Number(p.split(' ')[0]), 'SIGKILL');
    expect(alive([Number(worker!.split(' ')[0])])).toHaveLength(1);

    const second = await start();
    const deadline = Date.now() + 60_000;
    let d = await api<DeploymentView>('GET', `/deployments/${id}`);
    while (!['ready', 'error', 'cancelled'].includes(d.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      d = await api<DeploymentView>('GET', `/deployments/${id}`);
    }
    expect(d.error).toBeNull();
    expect(d.status).toBe('ready');
    expect((await visitEdge(`http://127.0.0.1:${env.EDGE_PORT}`, 'survivor.localhost')).body).toContain(
      'built across a restart',
    );

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});

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
import { DEFAULT_BUILD_SETTINGS } from '@deploysphere/build-worker/config';
import { startEcsEndpoint, type EcsEndpoint } from '@deploysphere/stack';
import { storageEnvPrefix } from '../src/config.js';
import { LOCAL_ECS_CREDENTIALS, localWorkerTaskDefinition } from '../src/local/local-ecs.js';
import { ecsSettingsEnv } from '../src/pipeline/ecs/ecs-settings.js';
import { workerStaticEnv } from '../src/pipeline/worker-launch.js';
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
const ecs: EcsEndpoint[] = [];
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
  await Promise.all([...s3, ...ecs].map((s) => s.stop()));
  await nats?.stop();
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

/**
 * ECS runs outside the control plane, as AWS's does: one local ECS endpoint per region, whose
 * task definition holds the worker's static environment (this control plane's URL, its limits).
 */
async function ecsEnv(): Promise<Record<string, string>> {
  const staticEnv = workerStaticEnv({
    controlPlaneUrl: `http://127.0.0.1:${env.PORT}`,
    limits: { ...DEFAULT_BUILD_SETTINGS, workDir: join(env.DATA_DIR!, 'builds'), heartbeatTimeoutMs: 60_000 },
  });
  const vars: Record<string, string> = {
    BUILD_RUNNER: 'ecs',
    ECS_POLL_INTERVAL_MS: '250',
    // The killed control plane's claim runs out this soon; the restarted one then adopts its build.
    ECS_OWNER_LEASE_MS: '3000',
    ECS_ACCESS_KEY_ID: LOCAL_ECS_CREDENTIALS.accessKeyId,
    ECS_SECRET_ACCESS_KEY: LOCAL_ECS_CREDENTIALS.secretAccessKey,
  };
  for (const region of REGIONS) {
    const endpoint = await startEcsEndpoint({
      region,
      logDir: join(dir, 'ecs', region),
      taskDefinitions: [localWorkerTaskDefinition(staticEnv)],
    });
    ecs.push(endpoint);
    Object.assign(
      vars,
      ecsSettingsEnv({
        region,
        cluster: 'deploysphere-builds',
        taskDefinition: 'deploysphere-build-worker:1',
        containerName: 'build-worker',
        subnets: ['subnet-local'],
        securityGroups: ['sg-local'],
        assignPublicIp: 'ENABLED',
        endpoint: endpoint.url,
      }),
    );
  }
  return vars;
}

async function start(extra: Record<string, string> = {}): Promise<CliRun> {
  const run = runStart({ ...env, ...extra });
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

  it('on ECS, the restarted control plane adopts the running task by startedBy and the deployment goes ready', async () => {
    const extra = await ecsEnv();
    const first = await start(extra);
    const repo = await GitRepo.create({ 'README.md': 'restart on ECS' });
    await api('POST', '/projects', {
      slug: 'ecs-survivor',
      repoUrl: repo.url,
      installCommand: '',
      buildCommand: 'sleep 6 && mkdir -p out && echo "built in a task across a restart" > out/index.html',
      regions: ['ap-southeast-1'],
    });
    const { id } = await api<DeploymentView>('POST', '/projects/ecs-survivor/deployments', {});
    let d = await api<DeploymentView>('GET', `/deployments/${id}`);
    while (!(d.phase === 'build' && d.runner?.taskArn)) {
      expect(['queued', 'building']).toContain(d.status);
      await new Promise((r) => setTimeout(r, 100));
      d = await api<DeploymentView>('GET', `/deployments/${id}`);
    }
    const taskArn = d.runner!.taskArn!;
    const below = alive(descendants(first.child.pid!));
    first.child.kill('SIGKILL');
    await first.exited;
    for (const p of below) if (p.includes('workerd')) process.kill(Number(p.split(' ')[0]), 'SIGKILL');

    const second = await start(extra);
    const deadline = Date.now() + 60_000;
    d = await api<DeploymentView>('GET', `/deployments/${id}`);
    while (!['ready', 'error', 'cancelled'].includes(d.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      d = await api<DeploymentView>('GET', `/deployments/${id}`);
    }
    expect(d.error).toBeNull();
    expect(d.status).toBe('ready');
    // The same task, started once, found again by startedBy after the restart.
    expect(d.runner).toMatchObject({ kind: 'ecs', region: 'ap-southeast-1', taskArn, attempt: 1 });
    const apse1 = ecs.find((e) => e.region === 'ap-southeast-1')!;
    const runTasks = apse1.requests.filter(
      (r) => r.operation === 'RunTask' && (r.body as { startedBy?: string }).startedBy === id,
    );
    expect(runTasks).toHaveLength(1);
    expect(
      apse1.requests.some(
        (r) => r.operation === 'ListTasks' && (r.body as { startedBy?: string }).startedBy === id,
      ),
    ).toBe(true);
    expect((await visitEdge(`http://127.0.0.1:${env.EDGE_PORT}`, 'ecs-survivor.localhost')).body).toContain(
      'built in a task across a restart',
    );

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});

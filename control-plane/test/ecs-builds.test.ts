import type { DeploymentView } from '@deploysphere/contracts';
import type { EcsEndpoint } from '@deploysphere/stack';
import type { RunTaskCommandInput } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from './git-repo.js';
import { waitForTaskStatus } from './ecs-tasks.js';
import { startTestPlatform, type TestPlatform } from './harness.js';
import { VITE_REACT_APP } from './vite-react-app.js';

// BUILD_RUNNER=ecs: every build of these tests goes through the real @aws-sdk/client-ecs to the
// local ECS endpoint of the project's primary region, ap-southeast-1, whose task runs the real
// build worker (sandboxed user commands, grants, NATS). Faults are injected at that endpoint.

const PRIMARY = 'ap-southeast-1';
const page = (text: string) => `<!doctype html><html><body><h1>${text}</h1></body></html>`;
const COPY_BUILD = 'mkdir -p dist && cp -r site/. dist/';

let t: TestPlatform;
let endpoints: Map<string, EcsEndpoint>;

beforeAll(async () => {
  t = await startTestPlatform({
    BUILD_RUNNER: 'ecs',
    BUILD_TIMEOUT_MS: '240000',
    ECS_POLL_INTERVAL_MS: '250',
  });
  endpoints = new Map(t.platform.ecsEndpoints.map((e) => [e.region, e]));
});
afterAll(async () => {
  await t?.stop();
});

const primary = () => endpoints.get(PRIMARY)!;

async function createProject(slug: string, body: Record<string, unknown>): Promise<void> {
  const res = await t.api('POST', '/projects', { slug, regions: [PRIMARY, 'us-east-1'], ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function deploy(slug: string): Promise<string> {
  const res = await t.api<DeploymentView>('POST', `/projects/${slug}/deployments`, {});
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id;
}

function runTasks(endpoint: EcsEndpoint, deploymentId: string): RunTaskCommandInput[] {
  return endpoint.requests
    .filter((r) => r.operation === 'RunTask')
    .map((r) => r.body as RunTaskCommandInput)
    .filter((b) => b.startedBy === deploymentId);
}

const providers = (reqs: RunTaskCommandInput[]) =>
  reqs.map((q) => q.capacityProviderStrategy?.[0]?.capacityProvider);

/** Waits until the deployment is building in `phase` (or fails fast if it ends first). */
async function waitForPhase(id: string, phase: DeploymentView['phase']): Promise<DeploymentView> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { body } = await t.api<DeploymentView>('GET', `/deployments/${id}`);
    if (body.status === 'building' && body.phase === phase && body.runner?.taskArn) return body;
    expect(['queued', 'building'], JSON.stringify(body)).toContain(body.status);
    if (Date.now() > deadline)
      throw new Error(`deployment ${id} never reached ${phase}: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('builds as ECS tasks in the primary region', () => {
  it('deploys a two-region static site through ap-southeast-1’s ECS endpoint, and the overrides hold no secret', async () => {
    const secret = `planted-${Math.random().toString(36).slice(2)}-value`;
    const repo = await GitRepo.create({ 'site/index.html': page('served from an ECS build') });
    await createProject('ecs-static', {
      repoUrl: repo.url,
      installCommand: '',
      buildCommand: COPY_BUILD,
      outputDir: 'dist',
      env: { API_SECRET: secret },
    });
    const id = await deploy('ecs-static');
    const d = await t.waitFor(id, ['ready', 'error']);
    expect(d.error).toBeNull();
    expect(d.status).toBe('ready');
    expect(d.regions).toEqual([PRIMARY, 'us-east-1']);
    expect((await t.visit('ecs-static.localhost')).body).toContain('served from an ECS build');

    // The RunTask went to the primary region's endpoint, and runner.taskArn names its task.
    const [run] = runTasks(primary(), id);
    expect(run).toBeDefined();
    for (const [region, e] of endpoints) if (region !== PRIMARY) expect(runTasks(e, id)).toEqual([]);
    expect(d.runner).toMatchObject({ kind: 'ecs', region: PRIMARY, attempt: 1 });
    expect(d.runner?.taskArn).toMatch(new RegExp(`^arn:aws:ecs:${PRIMARY}:\\d{12}:task/`));
    const started = primary()
      .requests.filter((r) => r.operation === 'DescribeTasks')
      .some((r) => JSON.stringify(r.body).includes(d.runner!.taskArn!));
    expect(started).toBe(true);

    // Nothing secret in any request to any endpoint: not the project's env, not the storage or
    // NATS credentials. Only the deployment id, the NATS URL and the spent bootstrap token.
    const everything = JSON.stringify([...endpoints.values()].flatMap((e) => e.requests));
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain('S3RVER');
    expect(everything).not.toContain('BEGIN NATS USER JWT');
    expect(everything).not.toContain('NKEY SEED');
    const names = run!.overrides?.containerOverrides?.flatMap((c) => c.environment ?? []).map((e) => e.name);
    expect(names?.sort()).toEqual(['BOOTSTRAP_TOKEN', 'DEPLOYMENT_ID', 'NATS_URL']);
  });

  it('builds and serves a Vite + React app', async () => {
    const repo = await GitRepo.create(VITE_REACT_APP);
    await createProject('ecs-vite', { repoUrl: repo.url });
    const d = await t.waitFor(await deploy('ecs-vite'), ['ready', 'error'], 300_000);
    expect(d.error).toBeNull();
    expect(d.status).toBe('ready');
    expect(d.preset?.id).toBe('vite');
    expect(d.runner).toMatchObject({ kind: 'ecs', region: PRIMARY });
    // The worker read its task's stats from the metadata endpoint and reported them with its
    // outcome: a Vite build uses CPU and well over 50 MB.
    const metrics = await (await fetch(`${t.platform.controlPlaneUrl}/metrics`)).text();
    const sample = (name: string) =>
      Number(new RegExp(`^${name}\\{source="task-metadata"\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
    expect(sample('deploysphere_build_cpu_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample('deploysphere_build_cpu_seconds_sum')).toBeGreaterThan(0);
    expect(sample('deploysphere_build_peak_memory_bytes_sum')).toBeGreaterThan(50 * 1024 * 1024);
    expect(metrics).not.toMatch(
      /^deploysphere_build_cpu_seconds_count\{source="process-accounting"\} [1-9]/m,
    );
    const html = (await t.visit('ecs-vite.localhost')).body;
    const script = /src="(\/assets\/index-[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await t.visit('ecs-vite.localhost', script!)).body).toContain('Hello from React');
  });

  it('ends a failing build in error with its exit code', async () => {
    const repo = await GitRepo.create({ 'build.sh': 'echo "no such module: left-pad" >&2\nexit 1\n' });
    await createProject('ecs-failing', {
      repoUrl: repo.url,
      installCommand: '',
      buildCommand: 'sh build.sh',
    });
    const d = await t.waitFor(await deploy('ecs-failing'), ['ready', 'error']);
    expect(d.status).toBe('error');
    expect(d.error).toMatch(/exit(ed)? (with )?code 1/i);
    expect(d.error).toContain('no such module: left-pad');
  });

  it('cancels: the NATS cancel, then StopTask, and the task stops', async () => {
    const repo = await GitRepo.create({ 'README.md': 'slow' });
    await createProject('ecs-cancel', { repoUrl: repo.url, installCommand: '', buildCommand: 'sleep 300' });
    const id = await deploy('ecs-cancel');
    const building = await waitForPhase(id, 'build');
    const cancelled = await t.api<DeploymentView>('POST', `/deployments/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const stops = primary()
      .requests.filter((r) => r.operation === 'StopTask')
      .map((r) => r.body as { task: string; reason?: string });
    expect(stops.map((s) => s.task)).toContain(building.runner!.taskArn);
    await waitForTaskStatus(primary(), building.runner!.taskArn!, 'STOPPED');
    expect((await t.api<DeploymentView>('GET', `/deployments/${id}`)).body.status).toBe('cancelled');
  });
});

describe('faults at the ECS API', () => {
  it('falls back to FARGATE when Spot has no capacity', async () => {
    const repo = await GitRepo.create({ 'site/index.html': page('on-demand') });
    await createProject('ecs-capacity', { repoUrl: repo.url, installCommand: '', buildCommand: COPY_BUILD });
    primary().faults.capacityUnavailable('FARGATE_SPOT', 1);
    const id = await deploy('ecs-capacity');
    const d = await t.waitFor(id, ['ready', 'error']);
    expect(d.error).toBeNull();
    expect(providers(runTasks(primary(), id))).toEqual(['FARGATE_SPOT', 'FARGATE']);
  });

  it('retries a throttled RunTask', async () => {
    const repo = await GitRepo.create({ 'site/index.html': page('throttled') });
    await createProject('ecs-throttled', { repoUrl: repo.url, installCommand: '', buildCommand: COPY_BUILD });
    primary().faults.throttle(2, 'RunTask');
    const id = await deploy('ecs-throttled');
    const d = await t.waitFor(id, ['ready', 'error']);
    expect(d.error).toBeNull();
    expect(runTasks(primary(), id)).toHaveLength(3);
  });

  it('runs a build Spot reclaims once more, on FARGATE, and it still goes ready', async () => {
    const repo = await GitRepo.create({ 'site/index.html': page('survived a Spot reclaim') });
    await createProject('ecs-spot', {
      repoUrl: repo.url,
      installCommand: '',
      buildCommand: `sleep 2 && ${COPY_BUILD}`,
    });
    const id = await deploy('ecs-spot');
    const first = await waitForPhase(id, 'build');
    await primary().faults.interruptSpot(first.runner!.taskArn!);
    const d = await t.waitFor(id, ['ready', 'error']);
    expect(d.error).toBeNull();
    expect(d.status).toBe('ready');
    expect(d.runner).toMatchObject({ kind: 'ecs', region: PRIMARY, attempt: 2 });
    expect(d.runner!.taskArn).not.toBe(first.runner!.taskArn);
    expect(providers(runTasks(primary(), id))).toEqual(['FARGATE_SPOT', 'FARGATE']);
    expect((await t.visit('ecs-spot.localhost')).body).toContain('survived a Spot reclaim');
  });

  it('ends a task that dies without a word in error, with ECS’s stop reason', async () => {
    const repo = await GitRepo.create({ 'README.md': 'doomed' });
    await createProject('ecs-dies', { repoUrl: repo.url, installCommand: '', buildCommand: 'sleep 300' });
    const id = await deploy('ecs-dies');
    const building = await waitForPhase(id, 'build');
    await primary().faults.killTask(building.runner!.taskArn!);
    const d = await t.waitFor(id, ['ready', 'error', 'cancelled']);
    expect(d.status).toBe('error');
    expect(d.error).toMatch(/EssentialContainerExited: Essential container in task exited.*exit code 137/);
  });
});

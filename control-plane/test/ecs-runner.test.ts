import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ECSClient, type RunTaskCommandInput } from '@aws-sdk/client-ecs';
import { startEcsEndpoint, type EcsEndpoint } from '@deploysphere/stack';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BuildLaunch } from '../src/pipeline/build-runner.js';
import { EcsRunner, type RecordedTask } from '../src/pipeline/ecs/ecs-runner.js';
import { LOCAL_ECS_CREDENTIALS } from '../src/local/local-ecs.js';
import { EcsRunners, type AdoptedBuild } from '../src/pipeline/ecs/ecs-runners.js';
import type { EcsRegionSettings } from '../src/pipeline/ecs/ecs-settings.js';
import { EcsTaskWatcher } from '../src/pipeline/ecs/ecs-task-watcher.js';
import { taskStatus, waitForTaskStatus } from './ecs-tasks.js';
import { newTestId, startPipelineHarness, type PipelineHarness } from './pipeline-harness.js';

// The ECS runner through the real @aws-sdk/client-ecs against the local ECS endpoint. The task's
// container is a small Node program standing in for the worker: it runs until SIGTERM, or exits
// with EXIT_CODE after RUN_MS. What a real worker does inside a task is ecs-builds.test.ts's part.

const REGION = 'ap-southeast-1';
const CONTAINER = [
  process.execPath,
  '-e',
  `process.on('SIGTERM', () => process.exit(143));
   setTimeout(() => process.exit(Number(process.env.EXIT_CODE)), Number(process.env.RUN_MS));`,
];
const CREDENTIALS = LOCAL_ECS_CREDENTIALS;

let dir: string;
let h: PipelineHarness;
let endpoint: EcsEndpoint;
const clients: ECSClient[] = [];
const watchers: EcsTaskWatcher[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-ecs-runner-'));
  h = await startPipelineHarness();
  endpoint = await startEcsEndpoint({
    region: REGION,
    logDir: join(dir, 'tasks'),
    taskDefinitions: [
      {
        family: 'long',
        revision: 3,
        containerName: 'build-worker',
        command: CONTAINER,
        environment: { EXIT_CODE: '0', RUN_MS: '600000' },
      },
      {
        family: 'dies',
        revision: 1,
        containerName: 'build-worker',
        command: CONTAINER,
        environment: { EXIT_CODE: '7', RUN_MS: '300' },
      },
    ],
  });
});
afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.stop()));
  for (const c of clients.splice(0)) c.destroy();
});
afterAll(async () => {
  await endpoint?.stop();
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

const settings = (taskDefinition: string): EcsRegionSettings => ({
  region: REGION,
  cluster: 'deploysphere-builds',
  taskDefinition,
  containerName: 'build-worker',
  subnets: ['subnet-0a'],
  securityGroups: ['sg-0b'],
  assignPublicIp: 'ENABLED',
  endpoint: endpoint.url,
});

function runner(taskDefinition = 'long:3', over: { maxAttempts?: number; building?: () => boolean } = {}) {
  const client = new ECSClient({
    region: REGION,
    endpoint: endpoint.url,
    credentials: CREDENTIALS,
    maxAttempts: over.maxAttempts ?? 5,
  });
  clients.push(client);
  const watcher = new EcsTaskWatcher({
    client,
    cluster: 'deploysphere-builds',
    containerName: 'build-worker',
    log: h.log,
    intervalMs: 100,
    maxIntervalMs: 1_000,
  });
  watcher.start();
  watchers.push(watcher);
  const recorded: RecordedTask[] = [];
  const tokens: string[] = [];
  const r = new EcsRunner({
    settings: settings(taskDefinition),
    client,
    watcher,
    natsUrl: 'nats://127.0.0.1:4222',
    log: h.log,
    issueBootstrap: async () => {
      tokens.push(`token-${tokens.length + 2}`);
      return tokens.at(-1)!;
    },
    recordTask: async (_id, task) => void recorded.push(task),
    stillBuilding: async () => over.building?.() ?? true,
    stopDeadlineMs: 30_000,
  });
  return { r, recorded, tokens };
}

const launch = (over: Partial<BuildLaunch> = {}): BuildLaunch => ({
  deploymentId: newTestId(),
  projectSlug: 'shop',
  region: REGION,
  attempt: 1,
  bootstrapToken: 'token-1',
  ...over,
});

/** The provider each RunTask asked for, in order. */
const providersOf = (reqs: RunTaskCommandInput[]) =>
  reqs.map((q) => q.capacityProviderStrategy?.[0]?.capacityProvider);

/** The container override's environment of one RunTask. */
const overrideEnv = (req: RunTaskCommandInput | undefined): Record<string, string | undefined> =>
  Object.fromEntries(
    (req?.overrides?.containerOverrides?.[0]?.environment ?? []).map((e) => [e.name ?? '', e.value]),
  );

function runTasksFor(deploymentId: string) {
  return endpoint.requests
    .filter((q) => q.operation === 'RunTask')
    .map((q) => q.body as RunTaskCommandInput)
    .filter((b) => b.startedBy === deploymentId);
}

describe('EcsRunner', () => {
  it('runs the task on Fargate Spot with the pinned definition, network, tags and only the launch in its overrides', async () => {
    const { r, recorded } = runner();
    const l = launch();
    const handle = await r.start(l);
    const [req] = runTasksFor(l.deploymentId);
    expect(req).toMatchObject({
      cluster: 'deploysphere-builds',
      taskDefinition: 'long:3',
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT' }],
      networkConfiguration: {
        awsvpcConfiguration: { subnets: ['subnet-0a'], securityGroups: ['sg-0b'], assignPublicIp: 'ENABLED' },
      },
      startedBy: l.deploymentId,
      clientToken: `${l.deploymentId}-1-spot`,
    });
    expect(Object.keys(overrideEnv(req)).sort()).toEqual(['BOOTSTRAP_TOKEN', 'DEPLOYMENT_ID', 'NATS_URL']);
    expect(req!.tags).toEqual(
      expect.arrayContaining([
        { key: 'deploysphere:deployment', value: l.deploymentId },
        { key: 'deploysphere:project', value: 'shop' },
        { key: 'deploysphere:region', value: REGION },
      ]),
    );
    expect(recorded).toEqual([
      { region: REGION, taskArn: expect.stringContaining(`:${REGION}:`), attempt: 1 },
    ]);
    await handle.stop();
    const exit = await handle.exited;
    expect(exit.reason).toMatch(/UserInitiated/);
  });

  it('falls back to FARGATE once when Spot has no capacity', async () => {
    const { r, recorded } = runner();
    endpoint.faults.capacityUnavailable('FARGATE_SPOT', 1);
    const l = launch();
    const handle = await r.start(l);
    const reqs = runTasksFor(l.deploymentId);
    expect(providersOf(reqs)).toEqual(['FARGATE_SPOT', 'FARGATE']);
    expect(reqs[1]!.clientToken).toBe(`${l.deploymentId}-1-od`);
    expect(recorded).toHaveLength(1);
    await handle.stop();
  });

  it('fails with ECS’s reason when neither Spot nor on-demand has capacity', async () => {
    const { r, recorded } = runner();
    endpoint.faults.capacityUnavailable('FARGATE_SPOT', 1);
    endpoint.faults.capacityUnavailable('FARGATE', 1);
    await expect(r.start(launch())).rejects.toThrow(
      /could not start the build task on FARGATE in ap-southeast-1: .*[Cc]apacity/,
    );
    expect(recorded).toEqual([]);
  });

  it('lets the SDK retry throttling, and gives up with ThrottlingException past its limit', async () => {
    const { r } = runner();
    endpoint.faults.throttle(2, 'RunTask');
    const l = launch();
    const handle = await r.start(l);
    expect(
      endpoint.requests.filter(
        (q) => q.operation === 'RunTask' && (q.body as RunTaskCommandInput).startedBy === l.deploymentId,
      ),
    ).toHaveLength(3);
    await handle.stop();

    const { r: impatient } = runner('long:3', { maxAttempts: 2 });
    endpoint.faults.throttle(2, 'RunTask');
    await expect(impatient.start(launch())).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('ends a task that dies without a word with its stop code, reason and exit code', async () => {
    const { r } = runner('dies:1');
    const handle = await r.start(launch());
    const exit = await handle.exited;
    expect(exit).toMatchObject({ code: 7 });
    expect(exit.reason).toMatch(/EssentialContainerExited: Essential container in task exited.*exit code 7/);
  });

  it('restarts a task Spot reclaims once, on FARGATE, with a new bootstrap token', async () => {
    const { r, recorded, tokens } = runner();
    const l = launch();
    const handle = await r.start(l);
    await endpoint.faults.interruptSpot(recorded[0]!.taskArn);
    await waitFor(() => recorded.length === 2, 'the restarted task');
    const reqs = runTasksFor(l.deploymentId);
    expect(providersOf(reqs)).toEqual(['FARGATE_SPOT', 'FARGATE']);
    expect(reqs[1]!.clientToken).toBe(`${l.deploymentId}-2-od`);
    const env = overrideEnv(reqs[1]);
    expect(env.BOOTSTRAP_TOKEN).toBe(tokens[0]);
    expect(recorded[1]!.attempt).toBe(2);
    // On-demand Fargate is not reclaimed: the restarted task's end is the build's end.
    await endpoint.faults.killTask(recorded[1]!.taskArn);
    const exit = await handle.exited;
    expect(exit.reason).toMatch(/EssentialContainerExited.*exit code 137/);
    expect(runTasksFor(l.deploymentId)).toHaveLength(2);
  });

  it('does not restart after Spot when the deployment has already finished', async () => {
    const { r, recorded } = runner('long:3', { building: () => false });
    const handle = await r.start(launch());
    await endpoint.faults.interruptSpot(recorded[0]!.taskArn);
    expect((await handle.exited).reason).toMatch(/SpotInterruption/);
    expect(recorded).toHaveLength(1);
  });

  it('adopts the task a clientToken already started when ECS answers ConflictException', async () => {
    const { r, recorded } = runner();
    const l = launch();
    const first = await r.start(l);
    // The same attempt again with another bootstrap token: the same clientToken, other parameters.
    const again = await r.start({ ...l, bootstrapToken: 'another-token' });
    expect(recorded.map((t) => t.taskArn)).toEqual([recorded[0]!.taskArn, recorded[0]!.taskArn]);
    expect(
      endpoint.requests.filter(
        (q) => q.operation === 'RunTask' && (q.body as RunTaskCommandInput).startedBy === l.deploymentId,
      ),
    ).toHaveLength(2);
    await first.stop();
    await again.exited;
  });
});

describe('EcsRunners across a control-plane restart', () => {
  it('adopts a building deployment’s task by startedBy, and the sweep stops tasks of finished deployments', async () => {
    const project = await h.project();
    const building = newTestId();
    const finished = newTestId();
    for (const id of [building, finished]) {
      await h.db.deployment.create({
        data: { id, projectId: project.id, regions: [REGION], status: 'building' },
      });
    }
    const config = {
      kind: 'ecs' as const,
      regions: [settings('long:3')],
      pollIntervalMs: 100,
      orphanSweepIntervalMs: 3_600_000,
      ownerLeaseMs: 60_000,
      credentials: CREDENTIALS,
    };
    const bootstrap = async () => 'token';
    const before = new EcsRunners(config, {
      db: h.db,
      natsUrl: 'nats://x',
      log: h.log,
      issueBootstrap: bootstrap,
      ownerId: 'before',
    });
    await before.start(() => undefined);
    await Promise.all(
      [building, finished].map((id) => before.runnerFor(REGION).start(launch({ deploymentId: id }))),
    );
    // The control plane goes away, giving back its lease; its tasks run on.
    await before.stop();
    await h.db.deployment.update({
      where: { id: finished },
      data: { status: 'error', finishedAt: new Date() },
    });

    const after = new EcsRunners(config, {
      db: h.db,
      natsUrl: 'nats://x',
      log: h.log,
      issueBootstrap: bootstrap,
      ownerId: 'after',
    });
    const adopted: AdoptedBuild[] = [];
    await after.start((b) => adopted.push(b));
    try {
      expect(adopted.map((a) => a.handle.deploymentId)).toEqual([building]);
      await after.sweepOnce();
      const finishedArn = (await h.db.deployment.findUniqueOrThrow({ where: { id: finished } }))
        .runnerTaskArn!;
      await waitForTaskStatus(endpoint, finishedArn, 'STOPPED');
      const buildingArn = (await h.db.deployment.findUniqueOrThrow({ where: { id: building } }))
        .runnerTaskArn!;
      expect(await taskStatus(endpoint, buildingArn)).toBe('RUNNING');
      // The adopted build is followed to its end.
      await adopted[0]!.handle.stop();
      expect((await adopted[0]!.handle.exited).reason).toMatch(/UserInitiated/);
    } finally {
      await after.stop();
    }
  });
});

describe('EcsRunners with several control planes: the owner lease', () => {
  // Built when the test runs: the endpoint starts in beforeAll.
  const config = () => ({
    kind: 'ecs' as const,
    regions: [settings('long:3')],
    pollIntervalMs: 100,
    orphanSweepIntervalMs: 3_600_000,
    // Long: the test drives the lease rounds itself (leaseOnce), the timers never fire.
    ownerLeaseMs: 600_000,
    credentials: CREDENTIALS,
  });
  const replica = (ownerId: string) =>
    new EcsRunners(config(), {
      db: h.db,
      natsUrl: 'nats://x',
      log: h.log,
      issueBootstrap: async () => 'token',
      ownerId,
    });

  it('never adopts a build whose owner holds its lease; exactly one replica adopts it once the lease is given back or runs out', async () => {
    const project = await h.project();
    const [given, expired] = [newTestId(), newTestId()];
    for (const id of [given, expired]) {
      await h.db.deployment.create({
        data: { id, projectId: project.id, regions: [REGION], status: 'building' },
      });
    }
    const a = replica('a');
    await a.start(() => undefined);
    await Promise.all([given, expired].map((id) => a.runnerFor(REGION).start(launch({ deploymentId: id }))));
    const owners = async () =>
      (
        await h.db.deployment.findMany({
          where: { id: { in: [given, expired] } },
          select: { id: true, runnerOwner: true },
        })
      ).map((d) => [d.id, d.runnerOwner] as const);
    expect(new Map(await owners())).toEqual(
      new Map([
        [given, 'a'],
        [expired, 'a'],
      ]),
    );

    const adoptedBy = new Map<string, string[]>();
    const start = async (id: string) => {
      const r = replica(id);
      await r.start((b) => {
        // Earlier tests' builds in this database may be adopted too: only these two count here.
        const mine = [given, expired].includes(b.handle.deploymentId);
        if (mine) adoptedBy.set(id, [...(adoptedBy.get(id) ?? []), b.handle.deploymentId]);
      });
      return r;
    };
    const [b, c] = [await start('b'), await start('c')];
    try {
      // A lives: its builds stay its own, however often the others look.
      await Promise.all([b.leaseOnce(), c.leaseOnce(), b.leaseOnce()]);
      expect(adoptedBy).toEqual(new Map());

      // One lease runs out (A died without a word): B and C look at once, one of them takes it.
      await h.db.deployment.update({
        where: { id: expired },
        data: { runnerLeaseUntil: new Date(Date.now() - 1) },
      });
      await Promise.all([b.leaseOnce(), c.leaseOnce()]);
      expect([...adoptedBy.values()].flat()).toEqual([expired]);
      const taker = [...adoptedBy.keys()][0]!;
      expect(new Map(await owners()).get(expired)).toBe(taker);

      // A shuts down: it gives the other lease back, and exactly one replica adopts that build.
      await a.stop();
      await Promise.all([b.leaseOnce(), c.leaseOnce()]);
      expect([...adoptedBy.values()].flat().sort()).toEqual([expired, given].sort());
      // The new owners renew their own leases and adopt nothing more.
      await Promise.all([b.leaseOnce(), c.leaseOnce()]);
      expect([...adoptedBy.values()].flat()).toHaveLength(2);
      const leases = await h.db.deployment.findMany({
        where: { id: { in: [given, expired] } },
        select: { runnerOwner: true, runnerLeaseUntil: true },
      });
      for (const l of leases) {
        expect(['b', 'c']).toContain(l.runnerOwner);
        expect(l.runnerLeaseUntil!.getTime()).toBeGreaterThan(Date.now());
      }
    } finally {
      for (const id of [given, expired]) {
        const arn = (await h.db.deployment.findUniqueOrThrow({ where: { id } })).runnerTaskArn!;
        await b.runnerFor(REGION).stopTask(arn, 'test over');
        await waitForTaskStatus(endpoint, arn, 'STOPPED');
      }
      await a.stop();
      await b.stop();
      await c.stop();
    }
  });
});

async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

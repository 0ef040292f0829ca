import { join } from 'node:path';
import {
  DescribeTasksCommand,
  ListTasksCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { CAPACITY_UNAVAILABLE_REASON } from './run-task.js';
import {
  allGone,
  clientFor,
  CLUSTER,
  describe1,
  NETWORK,
  readPids,
  REGION,
  waitFor,
  useEcsEndpoint,
  waitForStatus,
} from './test-fixture.js';

const ecs = useEcsEndpoint('ecs-faults-');

let pidFiles = 0;
function sleeper(provider: 'FARGATE_SPOT' | 'FARGATE'): { input: RunTaskCommandInput; pidFile: string } {
  const pidFile = join(ecs.dir(), `${++pidFiles}.pids`);
  return {
    pidFile,
    input: {
      cluster: CLUSTER,
      taskDefinition: 'sleeper:1',
      capacityProviderStrategy: [{ capacityProvider: provider, weight: 1 }],
      networkConfiguration: NETWORK,
      overrides: {
        containerOverrides: [{ name: 'worker', environment: [{ name: 'PIDFILE', value: pidFile }] }],
      },
    },
  };
}

const countOf = (operation: string) =>
  ecs.endpoint().requests.filter((r) => r.operation === operation).length;

describe('injected faults', () => {
  it('throttling is retried by the SDK, and surfaces as ThrottlingException with one attempt', async () => {
    const before = countOf('ListTasks');
    ecs.endpoint().faults.throttle(2, 'ListTasks');
    const res = await ecs.client().send(new ListTasksCommand({ cluster: CLUSTER }));
    expect(res.taskArns).toBeDefined();
    expect(countOf('ListTasks') - before).toBe(3);

    ecs.endpoint().faults.throttle(1);
    const once = clientFor(ecs.endpoint(), 1);
    const err = await once.send(new ListTasksCommand({ cluster: CLUSTER })).catch((e: unknown) => e);
    once.destroy();
    expect(err).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
  });

  it('a capacity failure comes back in failures[] with HTTP 200, only for the provider it names', async () => {
    ecs.endpoint().faults.capacityUnavailable('FARGATE_SPOT');
    const spot = await ecs.client().send(new RunTaskCommand(sleeper('FARGATE_SPOT').input));
    expect(spot.tasks).toEqual([]);
    expect(spot.failures).toEqual([{ reason: CAPACITY_UNAVAILABLE_REASON }]);
    expect(spot.$metadata.httpStatusCode).toBe(200);

    const onDemand = await ecs.client().send(new RunTaskCommand(sleeper('FARGATE').input));
    const task = onDemand.tasks![0]!;
    expect(task.capacityProviderName).toBe('FARGATE');
    await ecs.endpoint().faults.killTask(task.taskArn!);
  });

  it('interrupts a Spot task: SIGTERM to its group, stopCode SpotInterruption', async () => {
    const { input, pidFile } = sleeper('FARGATE_SPOT');
    const taskArn = (await ecs.client().send(new RunTaskCommand(input))).tasks![0]!.taskArn!;
    const pids = await readPids(pidFile);
    await ecs.endpoint().faults.interruptSpot(taskArn);
    const task = await describe1(ecs.client(), taskArn);
    expect(task).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'SpotInterruption',
      stoppedReason: 'Your Spot Task was interrupted.',
    });
    expect(task.containers?.[0]?.exitCode).toBe(143);
    await waitFor('the task and its child to be gone', () => allGone(pids));

    const onDemand = await ecs.client().send(new RunTaskCommand(sleeper('FARGATE').input));
    await expect(ecs.endpoint().faults.interruptSpot(onDemand.tasks![0]!.taskArn!)).rejects.toThrow(
      /FARGATE_SPOT/,
    );
    await ecs.endpoint().faults.killTask(onDemand.tasks![0]!.taskArn!);
  });

  it('interrupts the next Spot task once it has run for afterMs', async () => {
    ecs.endpoint().faults.interruptNextSpot(200);
    const taskArn = (await ecs.client().send(new RunTaskCommand(sleeper('FARGATE_SPOT').input))).tasks![0]!
      .taskArn!;
    const task = await waitForStatus(ecs.client(), taskArn, 'STOPPED');
    expect(task.stopCode).toBe('SpotInterruption');
    expect(task.stoppedAt!.getTime() - task.startedAt!.getTime()).toBeGreaterThanOrEqual(200);

    // Armed once: the next Spot task keeps running.
    const next = (await ecs.client().send(new RunTaskCommand(sleeper('FARGATE_SPOT').input))).tasks![0]!
      .taskArn!;
    await waitForStatus(ecs.client(), next, 'RUNNING');
    await ecs.endpoint().faults.killTask(next);
  });

  it('killTask kills the group as if the container died', async () => {
    const { input, pidFile } = sleeper('FARGATE');
    const taskArn = (await ecs.client().send(new RunTaskCommand(input))).tasks![0]!.taskArn!;
    const pids = await readPids(pidFile);
    await ecs.endpoint().faults.killTask(taskArn);
    const task = await describe1(ecs.client(), taskArn);
    expect(task).toMatchObject({ stopCode: 'EssentialContainerExited', desiredStatus: 'STOPPED' });
    expect(task.containers?.[0]).toMatchObject({ exitCode: 137, reason: expect.stringContaining('SIGKILL') });
    await waitFor('the task and its child to be gone', () => allGone(pids));
  });
});

describe('fault controls over HTTP', () => {
  const post = (body: unknown) =>
    fetch(`${ecs.endpoint().url}/_deploysphere/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('arms faults and kills tasks for a test in another process', async () => {
    expect((await post({ fault: 'throttle', count: 1, operation: 'DescribeTasks' })).status).toBe(200);
    const once = clientFor(ecs.endpoint(), 1);
    const unknown = `arn:aws:ecs:${REGION}:000000000000:task/${CLUSTER}/${'0'.repeat(32)}`;
    const err = await once
      .send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [unknown] }))
      .catch((e) => e);
    once.destroy();
    expect(err).toMatchObject({ name: 'ThrottlingException' });

    const { input } = sleeper('FARGATE_SPOT');
    const taskArn = (await ecs.client().send(new RunTaskCommand(input))).tasks![0]!.taskArn!;
    await waitForStatus(ecs.client(), taskArn, 'RUNNING');
    expect((await post({ fault: 'interruptSpot', taskArn })).status).toBe(200);
    expect((await describe1(ecs.client(), taskArn)).stopCode).toBe('SpotInterruption');

    expect((await post({ fault: 'killTask', taskArn: unknown })).status).toBe(404);
    expect((await post({ fault: 'nonsense' })).status).toBe(400);
  });

  it('serves every recorded request', async () => {
    const res = await fetch(`${ecs.endpoint().url}/_deploysphere/requests`);
    const recorded = (await res.json()) as { operation: string; body: { cluster?: string }; at: string }[];
    expect(recorded.length).toBe(ecs.endpoint().requests.length);
    const runTask = recorded.find((r) => r.operation === 'RunTask');
    expect(runTask?.body.cluster).toBe(CLUSTER);
    expect(Number.isNaN(Date.parse(runTask!.at))).toBe(false);
  });
});

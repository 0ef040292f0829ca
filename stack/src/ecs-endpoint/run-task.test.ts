import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ClientException,
  ClusterNotFoundException,
  ConflictException,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  InvalidParameterException,
  ListClustersCommand,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  waitUntilTasksStopped,
  type RunTaskCommandInput,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import {
  allGone,
  CLUSTER,
  describe1,
  NETWORK,
  readPids,
  REGION,
  waitFor,
  useEcsEndpoint,
  waitForStatus,
} from './test-fixture.js';

const ecs = useEcsEndpoint('ecs-endpoint-');

const spot = [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }];

function sleeperInput(pidFile: string, extra: Partial<RunTaskCommandInput> = {}): RunTaskCommandInput {
  return {
    cluster: CLUSTER,
    taskDefinition: 'sleeper:1',
    capacityProviderStrategy: spot,
    networkConfiguration: NETWORK,
    overrides: {
      containerOverrides: [{ name: 'worker', environment: [{ name: 'PIDFILE', value: pidFile }] }],
    },
    ...extra,
  };
}

describe('RunTask through the real SDK', () => {
  it('runs the command with exactly the definition and override environment, and reports its exit', async () => {
    const out = join(ecs.dir(), 'env.json');
    const res = await ecs.client().send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: 'envdump:1',
        capacityProviderStrategy: spot,
        networkConfiguration: NETWORK,
        startedBy: 'dep-env',
        tags: [{ key: 'deploysphere:deployment', value: 'dep-env' }],
        overrides: {
          containerOverrides: [
            {
              name: 'worker',
              environment: [
                { name: 'OUT', value: out },
                { name: 'EXIT_CODE', value: '3' },
              ],
            },
          ],
        },
      }),
    );
    expect(res.failures).toEqual([]);
    const started = res.tasks![0]!;
    expect(started.lastStatus).toBe('PROVISIONING');
    expect(started.taskArn).toMatch(
      new RegExp(`^arn:aws:ecs:${REGION}:000000000000:task/${CLUSTER}/[0-9a-f]{32}$`),
    );

    const waited = await waitUntilTasksStopped(
      { client: ecs.client(), maxWaitTime: 30, minDelay: 1, maxDelay: 1 },
      { cluster: CLUSTER, tasks: [started.taskArn!] },
    );
    expect(waited.state).toBe('SUCCESS');

    const task = await describe1(ecs.client(), started.taskArn!, true);
    expect(task).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      startedBy: 'dep-env',
      group: 'family:envdump',
      launchType: 'FARGATE',
      capacityProviderName: 'FARGATE_SPOT',
      taskDefinitionArn: `arn:aws:ecs:${REGION}:000000000000:task-definition/envdump:1`,
      tags: [{ key: 'deploysphere:deployment', value: 'dep-env' }],
    });
    expect(task.containers?.[0]?.exitCode).toBe(3);
    expect(task.overrides?.containerOverrides?.[0]?.environment).toContainEqual({
      name: 'EXIT_CODE',
      value: '3',
    });
    // Timestamps arrive as epoch seconds and the SDK turns them into Dates.
    expect(task.createdAt).toBeInstanceOf(Date);
    expect(task.stoppedAt!.getTime()).toBeGreaterThanOrEqual(task.startedAt!.getTime());

    const env = JSON.parse(await readFile(out, 'utf8')) as Record<string, string>;
    // Plus what Fargate's agent gives every container: where its task's metadata is.
    const taskId = started.taskArn!.split('/').pop()!;
    expect(env).toEqual({
      STATIC_A: 'a',
      EXIT_CODE: '3',
      OUT: out,
      ECS_CONTAINER_METADATA_URI_V4: `${ecs.endpoint().url}/v4/${taskId}`,
    });
    const log = await readFile(join(ecs.dir(), 'logs', `${started.taskArn!.split('/').pop()}.log`), 'utf8');
    expect(log).toContain('hello from stdout');
    expect(log).toContain('hello from stderr');

    // Without include TAGS, no tags.
    expect((await describe1(ecs.client(), started.taskArn!)).tags).toBeUndefined();
  });

  it('stops a task whose command cannot start with TaskFailedToStart', async () => {
    const res = await ecs.client().send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: 'missing',
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
      }),
    );
    const task = await waitForStatus(ecs.client(), res.tasks![0]!.taskArn!, 'STOPPED');
    expect(task.stopCode).toBe('TaskFailedToStart');
    expect(task.stoppedReason).toMatch(/ENOENT/);
    expect(task.capacityProviderName).toBeUndefined();
  });

  it('refuses what ECS refuses', async () => {
    const base: RunTaskCommandInput = {
      cluster: CLUSTER,
      taskDefinition: 'sleeper:1',
      capacityProviderStrategy: spot,
      networkConfiguration: NETWORK,
    };
    const refused = (input: RunTaskCommandInput) => ecs.client().send(new RunTaskCommand(input));
    await expect(refused({ ...base, launchType: 'FARGATE' })).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    await expect(refused({ ...base, networkConfiguration: undefined })).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    await expect(refused({ ...base, cluster: 'nope' })).rejects.toBeInstanceOf(ClusterNotFoundException);
    await expect(refused({ ...base, taskDefinition: 'sleeper:9' })).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    await expect(refused({ ...base, startedBy: 'x'.repeat(129) })).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    const big = { name: 'worker', environment: [{ name: 'BIG', value: 'x'.repeat(8200) }] };
    await expect(refused({ ...base, overrides: { containerOverrides: [big] } })).rejects.toBeInstanceOf(
      ClientException,
    );
    const other = { name: 'not-a-container', environment: [] };
    await expect(refused({ ...base, overrides: { containerOverrides: [other] } })).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    // A definition that names its overridable variables refuses any other (NODE_OPTIONS would run
    // code of the caller's choosing as the platform's user).
    const guarded = { ...base, taskDefinition: 'guarded:1' };
    const sneaky = { name: 'worker', environment: [{ name: 'NODE_OPTIONS', value: '--import=data:,x' }] };
    await expect(refused({ ...guarded, overrides: { containerOverrides: [sneaky] } })).rejects.toThrow(
      /NODE_OPTIONS is not allowed/,
    );
    // None of these started anything.
    for (const family of ['sleeper', 'guarded']) {
      const running = await ecs.client().send(new ListTasksCommand({ cluster: CLUSTER, family }));
      expect(running.taskArns).toEqual([]);
    }
  });

  it('resolves a bare family to its latest revision and an ARN to its revision', async () => {
    const latest = await ecs.client().send(new DescribeTaskDefinitionCommand({ taskDefinition: 'sleeper' }));
    expect(latest.taskDefinition?.revision).toBe(2);
    const arn = `arn:aws:ecs:${REGION}:000000000000:task-definition/sleeper:1`;
    const byArn = await ecs.client().send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
    expect(byArn.taskDefinition).toMatchObject({ taskDefinitionArn: arn, revision: 1 });
    expect(byArn.taskDefinition?.containerDefinitions?.[0]?.stopTimeout).toBe(1);
    await expect(
      ecs.client().send(new DescribeTaskDefinitionCommand({ taskDefinition: 'unknown:1' })),
    ).rejects.toBeInstanceOf(ClientException);
  });

  it('is idempotent per clientToken, and answers a reuse with other parameters with ConflictException', async () => {
    const pidFile = join(ecs.dir(), 'idem.pids');
    const input = sleeperInput(pidFile, { clientToken: 'dep-idem-1-spot', startedBy: 'dep-idem' });
    const first = await ecs.client().send(new RunTaskCommand(input));
    const again = await ecs.client().send(new RunTaskCommand(input));
    const taskArn = first.tasks![0]!.taskArn!;
    expect(again.tasks!.map((t) => t.taskArn)).toEqual([taskArn]);

    const conflict = await ecs
      .client()
      .send(new RunTaskCommand({ ...input, startedBy: 'someone-else' }))
      .catch((err: unknown) => err);
    expect(conflict).toBeInstanceOf(ConflictException);
    expect((conflict as ConflictException).resourceIds).toEqual([taskArn]);

    const listed = await ecs.client().send(new ListTasksCommand({ cluster: CLUSTER, startedBy: 'dep-idem' }));
    expect(listed.taskArns).toEqual([taskArn]);
    await ecs.client().send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
    await waitForStatus(ecs.client(), taskArn, 'STOPPED');
  });

  it('lists tasks by startedBy, family and desiredStatus, page by page', async () => {
    const res = await ecs.client().send(
      new RunTaskCommand({
        ...sleeperInput(join(ecs.dir(), 'list.pids')),
        count: 3,
        startedBy: 'dep-list',
      }),
    );
    const arns = res.tasks!.map((t) => t.taskArn!);
    expect(arns).toHaveLength(3);

    const page1 = await ecs
      .client()
      .send(new ListTasksCommand({ cluster: CLUSTER, startedBy: 'dep-list', maxResults: 2 }));
    expect(page1.taskArns).toEqual(arns.slice(0, 2));
    expect(page1.nextToken).toBeDefined();
    const page2 = await ecs.client().send(
      new ListTasksCommand({
        cluster: CLUSTER,
        startedBy: 'dep-list',
        maxResults: 2,
        nextToken: page1.nextToken,
      }),
    );
    expect(page2.taskArns).toEqual(arns.slice(2));
    expect(page2.nextToken).toBeUndefined();
    const byFamily = await ecs.client().send(new ListTasksCommand({ cluster: CLUSTER, family: 'sleeper' }));
    expect(byFamily.taskArns).toEqual(arns);

    for (const task of arns) await ecs.client().send(new StopTaskCommand({ cluster: CLUSTER, task }));
    const running = await ecs
      .client()
      .send(new ListTasksCommand({ cluster: CLUSTER, startedBy: 'dep-list' }));
    expect(running.taskArns).toEqual([]);
    const stopped = await ecs
      .client()
      .send(new ListTasksCommand({ cluster: CLUSTER, startedBy: 'dep-list', desiredStatus: 'STOPPED' }));
    expect(stopped.taskArns).toEqual(arns);
    for (const arn of arns) await waitForStatus(ecs.client(), arn, 'STOPPED');
  });
});

describe('StopTask and DescribeTasks', () => {
  it('StopTask with a reason stops the whole process tree', async () => {
    const pidFile = join(ecs.dir(), 'stop.pids');
    const res = await ecs.client().send(new RunTaskCommand(sleeperInput(pidFile)));
    const taskArn = res.tasks![0]!.taskArn!;
    const pids = await readPids(pidFile);
    expect((await describe1(ecs.client(), taskArn)).lastStatus).toBe('RUNNING');

    const stopping = await ecs
      .client()
      .send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn, reason: 'cancelled' }));
    expect(stopping.task?.desiredStatus).toBe('STOPPED');
    const task = await waitForStatus(ecs.client(), taskArn, 'STOPPED');
    expect(task).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'cancelled' });
    // The sleeper dies of SIGTERM: 128 + 15, with the signal as the container's reason.
    expect(task.containers?.[0]).toMatchObject({ exitCode: 143, reason: expect.stringContaining('SIGTERM') });
    await waitFor('the task and its child to be gone', () => allGone(pids));

    const again = await ecs
      .client()
      .send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn, reason: 'other' }));
    expect(again.task).toMatchObject({ stoppedReason: 'cancelled', version: task.version });
  });

  it('SIGKILLs a task that ignores SIGTERM after its stopTimeout', async () => {
    const pidFile = join(ecs.dir(), 'stubborn.pids');
    const input = sleeperInput(pidFile);
    input.overrides!.containerOverrides![0]!.environment!.push({ name: 'IGNORE_SIGTERM', value: '1' });
    const taskArn = (await ecs.client().send(new RunTaskCommand(input))).tasks![0]!.taskArn!;
    const pids = await readPids(pidFile);
    await ecs.client().send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
    const task = await waitForStatus(ecs.client(), taskArn, 'STOPPED');
    expect(task).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' });
    expect(task.containers?.[0]?.exitCode).toBe(137);
    await waitFor('the task and its child to be gone', () => allGone(pids));
  });

  it('answers unknown tasks as MISSING and refuses more than 100', async () => {
    const unknown = `arn:aws:ecs:${REGION}:000000000000:task/${CLUSTER}/${'0'.repeat(32)}`;
    const res = await ecs.client().send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [unknown] }));
    expect(res.tasks).toEqual([]);
    expect(res.failures).toEqual([{ arn: unknown, reason: 'MISSING' }]);
    await expect(
      ecs
        .client()
        .send(
          new DescribeTasksCommand({ cluster: CLUSTER, tasks: Array.from({ length: 101 }, () => unknown) }),
        ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      ecs.client().send(new StopTaskCommand({ cluster: CLUSTER, task: unknown })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('answers an operation it does not implement with UnknownOperationException', async () => {
    const err = await ecs
      .client()
      .send(new ListClustersCommand({}))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'UnknownOperationException', $metadata: { httpStatusCode: 400 } });
  });
});

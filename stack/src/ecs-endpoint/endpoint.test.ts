import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTasksCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, describe, expect, it } from 'vitest';
import { startEcsEndpoint } from './endpoint.js';
import {
  clientFor,
  CLUSTER,
  isRunning,
  NETWORK,
  readPids,
  REGION,
  TASK_DEFINITIONS,
} from './test-fixture.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('the endpoint', () => {
  it('stop() kills every task process it started and closes the port', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ecs-stop-'));
    dirs.push(dir);
    const endpoint = await startEcsEndpoint({
      region: REGION,
      taskDefinitions: TASK_DEFINITIONS,
      logDir: dir,
    });
    const client = clientFor(endpoint, 1);
    const pidFiles = [join(dir, 'a.pids'), join(dir, 'b.pids')];
    for (const pidFile of pidFiles) {
      await client.send(
        new RunTaskCommand({
          cluster: CLUSTER,
          taskDefinition: 'sleeper:2',
          launchType: 'FARGATE',
          networkConfiguration: NETWORK,
          overrides: {
            containerOverrides: [
              {
                name: 'worker',
                environment: [
                  { name: 'PIDFILE', value: pidFile },
                  { name: 'IGNORE_SIGTERM', value: '1' },
                ],
              },
            ],
          },
        }),
      );
    }
    const pids = (await Promise.all(pidFiles.map(readPids))).flat();
    expect(pids).toHaveLength(4);

    await endpoint.stop();
    for (const pid of pids) expect(await isRunning(pid)).toBe(false);
    await expect(client.send(new ListTasksCommand({ cluster: CLUSTER }))).rejects.toThrow();
    client.destroy();
    // A second stop() is harmless.
    await endpoint.stop();
  });

  it('listens on a free port of its own and refuses a bad task definition', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ecs-port-'));
    dirs.push(dir);
    const a = await startEcsEndpoint({
      region: 'eu-west-1',
      taskDefinitions: [],
      logDir: dir,
      clusters: ['x'],
    });
    const b = await startEcsEndpoint({ region: 'us-east-1', taskDefinitions: [], logDir: dir });
    try {
      expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(a.url).not.toBe(b.url);
      expect(a.region).toBe('eu-west-1');
    } finally {
      await a.stop();
      await b.stop();
    }
    const bad = { family: 'f', revision: 1, containerName: 'c', command: [] };
    await expect(startEcsEndpoint({ region: REGION, taskDefinitions: [bad], logDir: dir })).rejects.toThrow(
      /command/,
    );
  });
});

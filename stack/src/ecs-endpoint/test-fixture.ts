// Shared by this directory's tests: task definitions whose commands are small Node programs,
// an SDK client for an endpoint, and condition waits with deadlines (never fixed sleeps).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTasksCommand, ECSClient, type Task } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll } from 'vitest';
import { startEcsEndpoint } from './endpoint.js';
import type { EcsEndpoint, EcsTaskDefinitionInput } from './types.js';

export const REGION = 'ap-southeast-1';
export const CLUSTER = 'deploysphere-builds';
export const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'] } };

/** Writes its environment as JSON to $OUT, prints to both streams, exits with $EXIT_CODE. */
const ENV_DUMP = `
const fs = require('node:fs');
fs.writeFileSync(process.env.OUT + '.tmp', JSON.stringify(process.env));
fs.renameSync(process.env.OUT + '.tmp', process.env.OUT);
process.stdout.write('hello from stdout\\n');
process.stderr.write('hello from stderr\\n');
process.exitCode = Number(process.env.EXIT_CODE);
`;

/** Starts a grandchild, writes [own pid, grandchild pid] to $PIDFILE, then runs until stopped. */
const SLEEPER = `
const fs = require('node:fs');
const { spawn } = require('node:child_process');
if (process.env.IGNORE_SIGTERM) process.on('SIGTERM', () => {});
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
fs.writeFileSync(process.env.PIDFILE + '.tmp', JSON.stringify([process.pid, child.pid]));
fs.renameSync(process.env.PIDFILE + '.tmp', process.env.PIDFILE);
setInterval(() => {}, 1000);
`;

/**
 * Burns CPU on a fixed amount of work, then holds 150 MB of touched memory and writes its
 * metadata URI to $OUT; runs until stopped.
 */
const HOG = `
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const h = createHash('sha256');
const chunk = Buffer.alloc(1024 * 1024, 7);
for (let i = 0; i < 300; i++) h.update(chunk);
h.digest();
globalThis.held = Buffer.alloc(150 * 1024 * 1024, 1);
fs.writeFileSync(process.env.OUT + '.tmp', process.env.ECS_CONTAINER_METADATA_URI_V4 || '');
fs.renameSync(process.env.OUT + '.tmp', process.env.OUT);
setInterval(() => {}, 1000);
`;

export const TASK_DEFINITIONS: EcsTaskDefinitionInput[] = [
  {
    family: 'hog',
    revision: 1,
    containerName: 'worker',
    command: [process.execPath, '-e', HOG],
    stopTimeoutSeconds: 1,
  },
  {
    family: 'envdump',
    revision: 1,
    containerName: 'worker',
    command: [process.execPath, '-e', ENV_DUMP],
    environment: { STATIC_A: 'a', EXIT_CODE: '0' },
  },
  {
    family: 'sleeper',
    revision: 1,
    containerName: 'worker',
    command: [process.execPath, '-e', SLEEPER],
    stopTimeoutSeconds: 1,
  },
  {
    family: 'sleeper',
    revision: 2,
    containerName: 'worker',
    command: [process.execPath, '-e', SLEEPER],
    stopTimeoutSeconds: 1,
  },
  {
    family: 'guarded',
    revision: 1,
    containerName: 'worker',
    command: [process.execPath, '-e', ENV_DUMP],
    environment: { EXIT_CODE: '0' },
    overridableEnvironment: ['OUT', 'ALLOWED'],
  },
  {
    family: 'missing',
    revision: 1,
    containerName: 'worker',
    command: ['/nonexistent/deploysphere-test-binary'],
  },
];

export function clientFor(endpoint: EcsEndpoint, maxAttempts?: number): ECSClient {
  return new ECSClient({
    region: endpoint.region,
    endpoint: endpoint.url,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts,
  });
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function describe1(client: ECSClient, taskArn: string, includeTags = false): Promise<Task> {
  const res = await client.send(
    new DescribeTasksCommand({
      cluster: CLUSTER,
      tasks: [taskArn],
      include: includeTags ? ['TAGS'] : undefined,
    }),
  );
  const task = res.tasks?.[0];
  if (!task) throw new Error(`DescribeTasks does not know ${taskArn}: ${JSON.stringify(res.failures)}`);
  return task;
}

export function waitForStatus(client: ECSClient, taskArn: string, status: string): Promise<Task> {
  return waitFor(`${taskArn} to be ${status}`, async () => {
    const task = await describe1(client, taskArn);
    return task.lastStatus === status ? task : undefined;
  });
}

/** The pids a sleeper task wrote, once it has written them. */
export function readPids(file: string): Promise<number[]> {
  return waitFor(`pids in ${file}`, async () => {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as number[];
    } catch {
      return undefined;
    }
  });
}

/** Whether a process exists and is not a zombie (a container's PID 1 may not reap orphans). */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export async function allGone(pids: number[]): Promise<true | undefined> {
  for (const pid of pids) if (await isRunning(pid)) return undefined;
  return true;
}

/**
 * One endpoint for a test file, started before its tests and stopped (with every task it ran)
 * after them. `dir` is a scratch directory the tests may write to.
 */
export function useEcsEndpoint(prefix: string): {
  endpoint(): EcsEndpoint;
  client(): ECSClient;
  dir(): string;
} {
  let dir: string;
  let endpoint: EcsEndpoint;
  let client: ECSClient;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    endpoint = await startEcsEndpoint({
      region: REGION,
      taskDefinitions: TASK_DEFINITIONS,
      logDir: join(dir, 'logs'),
    });
    client = clientFor(endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    await endpoint?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { endpoint: () => endpoint, client: () => client, dir: () => dir };
}

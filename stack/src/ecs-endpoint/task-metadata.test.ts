import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import type { DockerStats } from './task-metadata.js';
import { CLUSTER, NETWORK, useEcsEndpoint, waitFor, waitForStatus } from './test-fixture.js';

const ecs = useEcsEndpoint('ecs-metadata-');
const MB = 1024 * 1024;

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: res.status === 200 ? await res.json() : await res.text() };
}

describe('the task metadata endpoint (v4) stand-in', () => {
  it("tells a task's container its stats: CPU used and peak memory, through the URI in its environment", async () => {
    const out = join(ecs.dir(), 'uri');
    const run = await ecs.client().send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: 'hog:1',
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
        overrides: { containerOverrides: [{ name: 'worker', environment: [{ name: 'OUT', value: out }] }] },
      }),
    );
    const taskArn = run.tasks![0]!.taskArn!;
    const uri = await waitFor('the task to write its metadata URI', async () => {
      try {
        return await readFile(out, 'utf8');
      } catch {
        return undefined;
      }
    });
    expect(uri).toBe(`${ecs.endpoint().url}/v4/${taskArn.split('/').pop()}`);

    // Sampled: wait until a sample has seen the held memory.
    const stats = await waitFor('stats showing the held memory', async () => {
      const { status, body } = await getJson(`${uri}/task/stats`);
      expect(status).toBe(200);
      const containers = Object.values(body as Record<string, DockerStats>);
      expect(containers).toHaveLength(1);
      return containers[0]!.memory_stats.max_usage >= 150 * MB ? containers[0] : undefined;
    });
    expect(stats.cpu_stats.cpu_usage.total_usage).toBeGreaterThan(0);
    expect(stats.memory_stats.usage).toBeGreaterThan(100 * MB);
    // The container's own stats are the same document, unkeyed.
    const own = await getJson(`${uri}/stats`);
    expect((own.body as DockerStats).memory_stats.max_usage).toBeGreaterThanOrEqual(150 * MB);

    await ecs.client().send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
    await waitForStatus(ecs.client(), taskArn, 'STOPPED');
    // A stopped task keeps what it used: the peak stays, nothing runs any more.
    const after = (await getJson(`${uri}/task/stats`)).body as Record<string, DockerStats>;
    const last = Object.values(after)[0]!;
    expect(last.memory_stats.max_usage).toBeGreaterThanOrEqual(150 * MB);
    expect(last.memory_stats.usage).toBe(0);
    expect(last.cpu_stats.cpu_usage.total_usage).toBeGreaterThanOrEqual(
      stats.cpu_stats.cpu_usage.total_usage,
    );
  });

  it('answers 404 for an unknown task or path, and for anything but GET', async () => {
    const base = ecs.endpoint().url;
    expect((await getJson(`${base}/v4/0123456789abcdef0123456789abcdef/task/stats`)).status).toBe(404);
    expect((await getJson(`${base}/v4/x/task/nothing`)).status).toBe(404);
    const post = await fetch(`${base}/v4/x/task/stats`, { method: 'POST' });
    expect(post.status).toBe(404);
  });
});

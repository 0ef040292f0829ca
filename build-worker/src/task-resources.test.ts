import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildEvent } from '@deploysphere/contracts';
import { startEcsEndpoint, type EcsEndpoint } from '@deploysphere/stack';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryEventSink } from './events.js';
import { ResourceReportingSink, TaskResourceSampler } from './task-resources.js';

const MB = 1024 * 1024;
// Holds 120 MB of touched memory, writes its metadata URI to $OUT, and runs until stopped.
const HOLDER = `
globalThis.held = Buffer.alloc(120 * 1024 * 1024, 1);
require('node:fs').writeFileSync(process.env.OUT, process.env.ECS_CONTAINER_METADATA_URI_V4);
setInterval(() => {}, 1000);
`;

let dir: string;
let ecs: EcsEndpoint;
let metadataUri: string;

/** RunTask in the endpoint's own protocol (awsJson1.1), without the SDK this workspace lacks. */
async function runTask(out: string): Promise<void> {
  const res = await fetch(ecs.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AmazonEC2ContainerServiceV20141113.RunTask',
    },
    body: JSON.stringify({
      cluster: 'deploysphere-builds',
      taskDefinition: 'holder:1',
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['s'], securityGroups: ['g'] } },
      overrides: { containerOverrides: [{ name: 'worker', environment: [{ name: 'OUT', value: out }] }] },
    }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'task-resources-'));
  ecs = await startEcsEndpoint({
    region: 'eu-west-1',
    logDir: join(dir, 'logs'),
    taskDefinitions: [
      { family: 'holder', revision: 1, containerName: 'worker', command: [process.execPath, '-e', HOLDER] },
    ],
  });
  const out = join(dir, 'uri');
  await runTask(out);
  metadataUri = await vi.waitFor(
    async () => {
      const uri = await readFile(out, 'utf8');
      if (!uri) throw new Error('the task has not written its metadata URI yet');
      return uri;
    },
    { timeout: 15_000, interval: 50 },
  );
});
afterAll(async () => {
  await ecs?.stop();
  await rm(dir, { recursive: true, force: true });
});

const uploaded = (): BuildEvent => ({
  type: 'uploaded',
  deploymentId: 'abcdefghijklmnopqrstuvwx',
  seq: 5,
  at: new Date().toISOString(),
  outputDir: 'dist',
  stats: { files: 1, bytes: 1, uploadedBytes: 1, phaseDurationsMs: {} },
});

describe('TaskResourceSampler and ResourceReportingSink', () => {
  it("adds the task's CPU and peak memory, from its metadata endpoint, to the build's outcome only", async () => {
    const sampler = new TaskResourceSampler(metadataUri, 100);
    const inner = new MemoryEventSink();
    const sink = new ResourceReportingSink(inner, sampler);
    try {
      await sink.publish({
        type: 'heartbeat',
        deploymentId: 'abcdefghijklmnopqrstuvwx',
        seq: 4,
        at: new Date().toISOString(),
      });
      await sink.publish(uploaded());
    } finally {
      sampler.stop();
    }
    const [heartbeat, outcome] = inner.events;
    expect(heartbeat).not.toHaveProperty('stats');
    expect(outcome?.type).toBe('uploaded');
    const resources = outcome?.type === 'uploaded' ? outcome.stats.resources : undefined;
    expect(resources?.source).toBe('task-metadata');
    expect(resources?.peakMemoryBytes).toBeGreaterThan(100 * MB);
    expect(resources?.cpuSeconds).toBeGreaterThan(0);
  });

  it('reports the outcome without resources when the endpoint cannot be read', async () => {
    const sampler = new TaskResourceSampler(`${ecs.url}/v4/0123456789abcdef0123456789abcdef`, 100);
    const inner = new MemoryEventSink();
    try {
      await new ResourceReportingSink(inner, sampler).publish(uploaded());
    } finally {
      sampler.stop();
    }
    expect(inner.events).toEqual([uploaded()].map((e) => ({ ...e, at: expect.any(String) })));
  });
});

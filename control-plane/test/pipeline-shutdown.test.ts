import { spawn } from 'node:child_process';
import { isAlive } from '@deploysphere/stack';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildExit, BuildHandle, BuildLaunch, BuildRunner } from '../src/pipeline/build-runner.js';
import { BuildQueue } from '../src/pipeline/build-queue.js';
import { RegionDispatcher, STOPPED_DURING_BUILD } from '../src/pipeline/dispatcher.js';
import { ensureStreams } from '../src/pipeline/streams.js';
import { newTestId, startPipelineHarness, type PipelineHarness } from './pipeline-harness.js';

// A control plane that shuts down must stop every build it holds, including one a dispatcher
// slot has claimed but not yet finished starting, and must not wait for it to end on its own.

let h: PipelineHarness;
beforeAll(async () => {
  h = await startPipelineHarness();
  await ensureStreams(await jetstreamManager(h.nc));
});
afterAll(async () => {
  await h?.close();
});

/**
 * Starts a real long-running process as "the build", but only once the test opens the gate:
 * the slot sits between its claim and its start for as long as the test wants.
 */
class GatedRunner implements BuildRunner {
  readonly name = 'gated';
  readonly pids: number[] = [];
  private open!: () => void;
  readonly gate = new Promise<void>((resolve) => (this.open = resolve));
  private reached!: () => void;
  /** Settles once a slot is inside start(), waiting at the gate. */
  readonly waiting = new Promise<void>((resolve) => (this.reached = resolve));

  release(): void {
    this.open();
  }

  async start(launch: BuildLaunch): Promise<BuildHandle> {
    this.reached();
    await this.gate;
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    this.pids.push(child.pid!);
    const exited = new Promise<BuildExit>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    return {
      deploymentId: launch.deploymentId,
      exited,
      async stop() {
        child.kill('SIGKILL');
        await exited;
      },
    };
  }
}

describe('shutting a dispatcher down', () => {
  it('stops and fails a build that was still starting when the shutdown began', async () => {
    const project = await h.project();
    const id = newTestId();
    await h.state.create({ id, projectId: project.id, regions: ['us-east-1'] });
    await new BuildQueue(h.nc).enqueue({
      v: 1,
      deploymentId: id,
      projectSlug: project.slug,
      region: 'us-east-1',
      queuedAt: new Date().toISOString(),
    });
    const runner = new GatedRunner();
    const dispatcher = new RegionDispatcher('us-east-1', 1, {
      nats: h.nc,
      state: h.state,
      runner,
      log: h.log,
      issueBootstrap: async () => 'a-bootstrap-token-the-gated-runner-ignores',
      recordRunner: async () => {},
      onExit: async () => {},
    });
    await dispatcher.start();
    await runner.waiting;
    expect((await h.db.deployment.findUniqueOrThrow({ where: { id } })).status).toBe('building');

    const stopped = dispatcher.stop();
    runner.release();
    // The build itself would run for 300 s: a stop that waited for it would still be waiting.
    const outcome = await Promise.race([
      stopped.then(() => 'stopped'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting for the build'), 60_000).unref()),
    ]);
    expect(outcome).toBe('stopped');
    expect(runner.pids).toHaveLength(1);
    expect(isAlive(runner.pids[0]!)).toBe(false);
    expect(await h.db.deployment.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: 'error',
      error: STOPPED_DURING_BUILD,
    });
  });
});

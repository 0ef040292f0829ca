import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { subjects } from '@deploysphere/contracts';
import {
  newToken,
  pendingBootstrap,
  storeBootstrapToken,
} from '../src/build-sessions/build-session-store.js';
import { BuildQueue } from '../src/pipeline/build-queue.js';
import type { BuildExit, BuildHandle, BuildLaunch, BuildRunner } from '../src/pipeline/build-runner.js';
import { RegionDispatcher, type DispatcherDeps } from '../src/pipeline/dispatcher.js';
import { ensureStreams, lastEventSeqInStream } from '../src/pipeline/streams.js';
import { Watchdog } from '../src/pipeline/watchdog.js';
import { takeOverUnlaunched } from '../src/pipeline/takeover.js';
import { newTestId, startPipelineHarness, type PipelineHarness } from './pipeline-harness.js';

// Two dispatchers of one region on one NATS and database, as two control planes run them. The
// first claims a build and hangs while launching it (its control plane froze or died before the
// worker started, so it never acks the job); JetStream delivers the job again, to the second,
// which takes the build over once the claim is old enough, exactly once.

let h: PipelineHarness;
beforeAll(async () => {
  h = await startPipelineHarness();
  await ensureStreams(await jetstreamManager(h.nc));
});
afterAll(async () => {
  await h?.close();
});

/** A runner whose launches never finish until released (then they fail, as a dead process's). */
class HangingRunner implements BuildRunner {
  readonly name = 'local';
  readonly launches: BuildLaunch[] = [];
  private release!: (err: Error) => void;
  private readonly released = new Promise<never>((_, reject) => (this.release = reject));
  start(launch: BuildLaunch): Promise<BuildHandle> {
    this.launches.push(launch);
    return this.released;
  }
  free() {
    this.release(new Error('the control plane is gone'));
  }
}

/** A runner whose builds run until the test ends. */
class RecordingRunner implements BuildRunner {
  readonly name = 'local';
  readonly launches: BuildLaunch[] = [];
  private end!: (exit: BuildExit) => void;
  private readonly ended = new Promise<BuildExit>((r) => (this.end = r));
  async start(launch: BuildLaunch): Promise<BuildHandle> {
    this.launches.push(launch);
    return { deploymentId: launch.deploymentId, exited: this.ended, stop: async () => this.finish() };
  }
  finish() {
    this.end({ code: 0, signal: null });
  }
}

const deps = (runner: BuildRunner): DispatcherDeps => ({
  nats: h.nc,
  state: h.state,
  runner,
  log: h.log,
  issueBootstrap: async (id) => {
    const token = newToken();
    await storeBootstrapToken(h.db, id, token, Date.now() + 15 * 60_000);
    return token;
  },
  recordRunner: async (id, r) => {
    await h.db.deployment.updateMany({
      where: { id, status: 'building' },
      data: { runnerKind: r.kind, runnerRegion: r.region },
    });
  },
  onExit: async () => {},
  takeOver: (id) => takeOverUnlaunched(h.db, id, h.log),
});

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a build claimed by a control plane that dies before launching it', () => {
  it('is launched once by the other, after its job comes back, and the first launch can no longer start', async () => {
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
    const hanging = new HangingRunner();
    const first = new RegionDispatcher('us-east-1', 1, deps(hanging));
    await first.start();
    await until('the first to claim and start launching', () => hanging.launches.length === 1, 60_000);
    const firstToken = hanging.launches[0]!.bootstrapToken;

    const recording = new RecordingRunner();
    const second = new RegionDispatcher('us-east-1', 1, deps(recording));
    await second.start();
    // The job comes back after the consumer's ack wait (60 s); the claim is then old enough.
    await until('the second to launch the build', () => recording.launches.length > 0, 180_000);

    expect(recording.launches).toHaveLength(1);
    expect(recording.launches[0]!.deploymentId).toBe(id);
    // The first launch's token is void; the second's is the one the worker may exchange.
    expect(await pendingBootstrap(h.db, firstToken)).toBeNull();
    expect(await pendingBootstrap(h.db, recording.launches[0]!.bootstrapToken)).toMatchObject({ id });
    expect(await h.db.deployment.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'building' });
    // Asked again now (the job once more, a third control plane): the new launch is too fresh.
    expect(await takeOverUnlaunched(h.db, id, h.log)).toBe('wait');

    recording.finish();
    hanging.free();
    await Promise.all([first.stop(), second.stop()]);
    expect(hanging.launches).toHaveLength(1);
  }, 300_000);
});

describe('the watchdog behind a backlog of build events', () => {
  it('does not take a worker for silent while the stream holds its events not applied yet', async () => {
    const stopped: string[] = [];
    const watchdog = new Watchdog({
      db: h.db,
      queue: new BuildQueue(h.nc),
      state: h.state,
      log: h.log,
      heartbeatTimeoutMs: 30_000,
      requeueAfterMs: 3_600_000,
      stopBuild: async (id) => void stopped.push(id),
      requeue: async () => {},
      unappliedEvents: async (id, applied) =>
        (await lastEventSeqInStream(await jetstreamManager(h.nc), id)) > applied,
    });
    const silentBuild = async () => {
      const project = await h.project();
      const id = newTestId();
      await h.state.create({ id, projectId: project.id, regions: ['us-east-1'] });
      expect(await h.state.claim(id)).toBe('claimed');
      await h.db.deployment.update({
        where: { id },
        data: { lastHeartbeatAt: new Date(Date.now() - 60_000) },
      });
      return id;
    };
    const behind = await silentBuild();
    const silent = await silentBuild();
    // A heartbeat of `behind` waits in the stream: no consumer runs here, as none keeps up.
    await jetstream(h.nc).publish(
      subjects.buildEvent(behind),
      JSON.stringify({ deploymentId: behind, seq: 1, at: new Date().toISOString(), type: 'heartbeat' }),
    );
    await watchdog.sweep();
    expect(await h.db.deployment.findUniqueOrThrow({ where: { id: behind } })).toMatchObject({
      status: 'building',
    });
    expect(await h.db.deployment.findUniqueOrThrow({ where: { id: silent } })).toMatchObject({
      status: 'error',
    });
    expect(stopped).toEqual([silent]);
  });
});

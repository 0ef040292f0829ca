import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newToken, storeBootstrapToken } from '../src/build-sessions/build-session-store.js';
import { BuildQueue } from '../src/pipeline/build-queue.js';
import { Watchdog } from '../src/pipeline/watchdog.js';
import { newTestId, startPipelineHarness, type PipelineHarness } from './pipeline-harness.js';

// The watchdog on a real PostgreSQL: a build is judged by heartbeats once its worker has started,
// and by its bootstrap token's lifetime before (an ECS task can take minutes to start).

const HEARTBEAT_TIMEOUT_MS = 30_000;
let h: PipelineHarness;
let watchdog: Watchdog;
const stopped: string[] = [];

beforeAll(async () => {
  h = await startPipelineHarness();
  watchdog = new Watchdog({
    db: h.db,
    queue: new BuildQueue(h.nc),
    state: h.state,
    log: h.log,
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
    requeueAfterMs: 3_600_000,
    stopBuild: async (id) => void stopped.push(id),
    requeue: async () => {},
  });
});
afterAll(async () => {
  await h?.close();
});

/** A building deployment whose last heartbeat was `silentForMs` ago. */
async function building(silentForMs: number): Promise<string> {
  const project = await h.project();
  const id = newTestId();
  await h.state.create({ id, projectId: project.id, regions: ['us-east-1'], gitRef: null });
  expect(await h.state.claim(id)).toBe('claimed');
  await h.db.deployment.update({
    where: { id },
    data: { lastHeartbeatAt: new Date(Date.now() - silentForMs) },
  });
  return id;
}

const statusOf = async (id: string) => h.db.deployment.findUniqueOrThrow({ where: { id } });

describe('watchdog', () => {
  it('fails a started build that went silent, and stops it', async () => {
    const id = await building(HEARTBEAT_TIMEOUT_MS * 2);
    await watchdog.sweep();
    expect(await statusOf(id)).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/stopped sending heartbeats/),
    });
    expect(stopped).toContain(id);
  });

  it('leaves a build whose worker has not fetched its unexpired bootstrap token yet', async () => {
    const id = await building(0);
    expect(await storeBootstrapToken(h.db, id, newToken(), Date.now() + 600_000)).toBe(true);
    // Long past the heartbeat window: the task is still being placed and pulling its image.
    await h.db.deployment.update({
      where: { id },
      data: { lastHeartbeatAt: new Date(Date.now() - HEARTBEAT_TIMEOUT_MS * 4) },
    });
    await watchdog.sweep();
    expect((await statusOf(id)).status).toBe('building');
  });

  it('fails a build whose bootstrap token expired unused', async () => {
    const id = await building(0);
    expect(await storeBootstrapToken(h.db, id, newToken(), Date.now() - 1)).toBe(true);
    await watchdog.sweep();
    expect(await statusOf(id)).toMatchObject({
      status: 'error',
      error: 'the build worker never started: its one-time bootstrap token expired unused',
    });
  });
});

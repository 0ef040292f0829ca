import type { BuildCacheReport, BuildEvent, BuildPresetReport, BuildStats } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toDeploymentView } from '../src/deployments/deployment-view.js';
import { RouteWriter } from '../src/hosts/route-writer.js';
import { SiteUrls } from '../src/hosts/site-urls.js';
import { BuildEventConsumer } from '../src/pipeline/event-consumer.js';
import { newTestId, startPipelineHarness, type PipelineHarness } from './pipeline-harness.js';

// What a build reports about itself (the detected preset, the build cache, the clone size) is
// stored from its `uploaded` event, and from `failed` when a newer worker sends it, through the
// state machine's guarded writes, on real PostgreSQL, NATS and Workers KV; the deployment view
// shows it.

let h: PipelineHarness;
let events: BuildEventConsumer;
const urls = new SiteUrls({ rootDomain: 'localhost', sites: { protocol: 'http' } });

beforeAll(async () => {
  h = await startPipelineHarness();
  events = new BuildEventConsumer({
    nats: h.nc,
    db: h.db,
    routes: new RouteWriter(h.kv.routes, 'localhost'),
    state: h.state,
    log: h.log,
  });
});
afterAll(async () => {
  await h?.close();
});

const preset: BuildPresetReport = {
  id: 'vite',
  name: 'Vite',
  reason: 'vite: dependency vite, vite.config.js',
  packageManager: 'npm',
  installCommand: 'npm ci',
  buildCommand: 'npm run build',
  installFrom: 'preset',
  buildFrom: 'project',
  outputDir: 'dist',
  nodeVersion: '20.19.0',
};
const cache: BuildCacheReport = {
  restored: 'partial',
  key: 'a'.repeat(64),
  source: 'branch',
  restoredBytes: 123_456,
  saveKey: 'b'.repeat(64),
};
const stats = (more: Partial<BuildStats> = {}): BuildStats => ({
  files: 3,
  bytes: 300,
  uploadedBytes: 300,
  phaseDurationsMs: { clone: 10, install: 20, build: 30, upload: 40 },
  ...more,
});
const at = () => new Date().toISOString();

async function building(withoutCache = false): Promise<string> {
  const project = await h.project();
  const id = newTestId();
  await h.state.create({ id, projectId: project.id, regions: ['us-east-1'], withoutCache });
  expect(await h.state.claim(id)).toBe('claimed');
  return id;
}

async function view(id: string) {
  const d = await h.db.deployment.findUniqueOrThrow({
    where: { id },
    include: { project: { select: { slug: true, productionDeploymentId: true } } },
  });
  return toDeploymentView(d, urls);
}

describe('build stats from the worker', () => {
  it('stores the preset, the cache result and the clone size from `uploaded`', async () => {
    const id = await building(true);
    const event: BuildEvent = {
      type: 'uploaded',
      deploymentId: id,
      seq: 1,
      at: at(),
      outputDir: 'dist',
      stats: stats({ preset, cache, cloneBytes: 4096 }),
    };
    await events.apply(event);
    const v = await view(id);
    expect(v.status).toBe('ready');
    expect(v).toMatchObject({ preset, cache, cloneBytes: 4096, withoutCache: true });
    // Shown once, at the top of the view, not again inside `stats`.
    expect(v.stats).not.toHaveProperty('preset');
    expect(v.stats).not.toHaveProperty('cache');
  });

  it('shows null for all three when a worker older than presets reports none', async () => {
    const id = await building();
    await events.apply({
      type: 'uploaded',
      deploymentId: id,
      seq: 1,
      at: at(),
      outputDir: '.',
      stats: stats(),
    });
    expect(await view(id)).toMatchObject({
      status: 'ready',
      preset: null,
      cache: null,
      cloneBytes: null,
      withoutCache: false,
    });
  });

  it('stores them from `failed` too, and the failure', async () => {
    const id = await building();
    await events.apply({ type: 'phase', deploymentId: id, seq: 1, at: at(), phase: 'install' });
    await events.apply({
      type: 'failed',
      deploymentId: id,
      seq: 2,
      at: at(),
      error: 'npm ci exited with 1',
      stats: stats({ preset, cache: { restored: 'none', skipped: 'corrupt' }, cloneBytes: 77 }),
    });
    const v = await view(id);
    expect(v).toMatchObject({
      status: 'error',
      error: 'npm ci exited with 1',
      preset,
      cache: { restored: 'none', skipped: 'corrupt' },
      cloneBytes: 77,
    });
    // Phase durations of a failure are not taken: the stepper marks the step it stopped in.
    expect(v.stats.phaseDurationsMs).toEqual({});
  });

  it('changes nothing when the failure arrives after a cancel', async () => {
    const id = await building();
    expect(await h.state.cancel(id, 'cancelled by user')).toBe(true);
    await events.apply({
      type: 'failed',
      deploymentId: id,
      seq: 1,
      at: at(),
      error: 'too late',
      stats: stats({ preset, cache, cloneBytes: 1 }),
    });
    expect(await view(id)).toMatchObject({
      status: 'cancelled',
      error: 'cancelled by user',
      preset: null,
      cache: null,
      cloneBytes: null,
    });
  });

  it('shows a stored report of an unknown shape as null rather than failing the view', async () => {
    const id = await building();
    await h.db.deployment.update({
      where: { id },
      data: { preset: { id: 'vite', somethingElse: true }, cache: { restored: 'maybe' } },
    });
    expect(await view(id)).toMatchObject({ preset: null, cache: null });
  });
});

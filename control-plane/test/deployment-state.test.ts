import { deploymentHost, productionHost, type BuildEvent } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouteWriter } from '../src/hosts/route-writer.js';
import { BuildEventConsumer } from '../src/pipeline/event-consumer.js';
import {
  interleavedRouteStore,
  newTestId,
  startPipelineHarness,
  type PipelineHarness,
} from './pipeline-harness.js';

// Races between the writers of a deployment's status, on real PostgreSQL, NATS and Workers KV.
// Each race is forced with a hook inside the route writes, never with timing.

let h: PipelineHarness;
beforeAll(async () => {
  h = await startPipelineHarness();
});
afterAll(async () => {
  await h?.close();
});

/** A deployment the dispatcher has claimed: building, in phase clone. */
async function building(): Promise<{ id: string; project: { id: string; slug: string } }> {
  const project = await h.project();
  const id = newTestId();
  await h.state.create({ id, projectId: project.id, regions: ['us-east-1'] });
  expect(await h.state.claim(id)).toBe('claimed');
  return { id, project };
}

const uploaded = (deploymentId: string, seq: number): BuildEvent => ({
  type: 'uploaded',
  deploymentId,
  seq,
  at: new Date().toISOString(),
  outputDir: 'dist',
  stats: { files: 1, bytes: 10, uploadedBytes: 10, phaseDurationsMs: { clone: 1 } },
});

function consumer(before: (hostname: string) => Promise<void> | void): BuildEventConsumer {
  return new BuildEventConsumer({
    nats: h.nc,
    db: h.db,
    routes: new RouteWriter(interleavedRouteStore(h.kv.routes, before), 'localhost'),
    state: h.state,
    log: h.log,
  });
}

const refusedCount = async (transition: string) => {
  const metric = await h.registry.getSingleMetric('deploysphere_deployment_transitions_refused_total')?.get();
  return metric?.values.find((v) => v.labels.transition === transition)?.value ?? 0;
};

describe('the deployment state machine', () => {
  it('claims one deployment of a project at a time, however the claims race', async () => {
    const project = await h.project();
    const ids = [newTestId(), newTestId()];
    // Two queued at once (create() would supersede the first): as two control planes may see.
    for (const id of ids) {
      await h.db.deployment.create({
        data: { id, projectId: project.id, status: 'queued', regions: ['us-east-1'] },
      });
    }
    const outcomes = await Promise.all(ids.map((id) => h.state.claim(id)));
    expect(outcomes.sort()).toEqual(['busy', 'claimed']);
  });

  it('supersedes the queued deployments of a project when a new one is created', async () => {
    const project = await h.project();
    const first = newTestId();
    const second = newTestId();
    await h.state.create({ id: first, projectId: project.id, regions: ['us-east-1'] });
    expect(await h.state.create({ id: second, projectId: project.id, regions: ['us-east-1'] })).toEqual([
      first,
    ]);
    const old = await h.db.deployment.findUniqueOrThrow({ where: { id: first } });
    expect(old).toMatchObject({ status: 'cancelled', error: `superseded by ${second}` });
  });

  it('a cancel that lands while the build is activating wins: production never moves to it', async () => {
    const { id, project } = await building();
    const before = await refusedCount('ready');
    const events = consumer(async (hostname) => {
      // The deployment's own record is written, then the user's cancel lands, before the switch.
      if (hostname === deploymentHost(project.slug, id, 'localhost')) {
        expect(await h.state.cancel(id, 'cancelled by user')).toBe(true);
      }
    });
    await events.apply(uploaded(id, 5));

    const d = await h.db.deployment.findUniqueOrThrow({ where: { id } });
    expect(d).toMatchObject({ status: 'cancelled', error: 'cancelled by user' });
    expect(await h.kv.routes.get(productionHost(project.slug, 'localhost'))).toBeNull();
    const p = await h.db.project.findUniqueOrThrow({ where: { id: project.id } });
    expect(p.productionDeploymentId).toBeNull();
    expect(await refusedCount('ready')).toBe(before + 1);
  });

  it('a cancel that lands during the production switch waits for it, then is refused', async () => {
    const { id, project } = await building();
    let cancelling: Promise<boolean> | undefined;
    const events = consumer(async (hostname) => {
      if (hostname !== productionHost(project.slug, 'localhost')) return;
      cancelling = h.state.cancel(id, 'cancelled by user');
      // Proof that the two really overlap: the cancel is blocked on the deployment's row lock.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const rows = await h.db.$queryRaw<{ waiting: number }[]>`
          SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE wait_event_type = 'Lock'`;
        if ((rows[0]?.waiting ?? 0) > 0) break;
        if (Date.now() > deadline) throw new Error('the cancel never waited for the switch');
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    await events.apply(uploaded(id, 5));
    expect(await cancelling).toBe(false);

    const d = await h.db.deployment.findUniqueOrThrow({ where: { id } });
    expect(d.status).toBe('ready');
    expect((await h.kv.routes.get(productionHost(project.slug, 'localhost')))?.deploymentId).toBe(id);
    const p = await h.db.project.findUniqueOrThrow({ where: { id: project.id } });
    expect(p.productionDeploymentId).toBe(id);
  });

  it('an event that arrives after a cancel changes nothing', async () => {
    const { id } = await building();
    expect(await h.state.cancel(id, 'cancelled by user')).toBe(true);
    const events = consumer(() => {});
    await events.apply({
      type: 'failed',
      deploymentId: id,
      seq: 9,
      at: new Date().toISOString(),
      error: 'boom',
    });
    await events.apply({
      type: 'phase',
      deploymentId: id,
      seq: 10,
      at: new Date().toISOString(),
      phase: 'build',
    });
    expect(await h.db.deployment.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: 'cancelled',
      error: 'cancelled by user',
    });
  });

  it('applies each event once, and refuses a watchdog failure once a heartbeat came in', async () => {
    const { id } = await building();
    const stale = (await h.db.deployment.findUniqueOrThrow({ where: { id } })).lastHeartbeatAt;
    expect(await h.state.note(id, { lastHeartbeatAt: new Date(Date.now() + 1000) }, { seq: 3 })).toBe(true);
    expect(await h.state.note(id, { lastHeartbeatAt: new Date() }, { seq: 3 })).toBe(false);
    expect(await h.state.fail(id, 'silent', { where: { lastHeartbeatAt: stale } })).toBe(false);
    expect((await h.db.deployment.findUniqueOrThrow({ where: { id } })).status).toBe('building');
  });

  it('refuses to leave a finished deployment, and counts it', async () => {
    const { id } = await building();
    expect(await h.state.fail(id, 'it broke')).toBe(true);
    const before = await refusedCount('cancel');
    expect(await h.state.cancel(id, 'too late')).toBe(false);
    expect(await h.state.phase(id, 'build')).toBe(false);
    expect(await refusedCount('cancel')).toBe(before + 1);
    expect(await h.db.deployment.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: 'error',
      error: 'it broke',
    });
  });
});

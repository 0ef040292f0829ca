import { deploymentHost, productionHost, type BuildEvent } from '@deploysphere/contracts';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentStateMachine } from '../src/deployments/deployment-state-machine.js';
import { StatusPublisher } from '../src/deployments/status-publisher.js';
import { BranchAliases } from '../src/hosts/branch-aliases.js';
import { RouteWriter } from '../src/hosts/route-writer.js';
import { BuildEventConsumer } from '../src/pipeline/event-consumer.js';
import { newTestId, startPipelineHarness, type PipelineHarness } from './pipeline-harness.js';

// Previews through the state machine on real PostgreSQL, NATS and Workers KV, without builds:
// which queued deployments a new one supersedes, and what a preview's `ready` writes.

let h: PipelineHarness;
let state: DeploymentStateMachine;
let consumer: BuildEventConsumer;

beforeAll(async () => {
  h = await startPipelineHarness();
  const routes = new RouteWriter(h.kv.routes, 'localhost');
  state = new DeploymentStateMachine({
    db: h.db,
    status: new StatusPublisher(h.nc),
    registry: new Registry(),
    aliases: new BranchAliases(routes, 'localhost'),
  });
  consumer = new BuildEventConsumer({ nats: h.nc, db: h.db, routes, state, log: h.log });
});
afterAll(async () => {
  await h?.close();
});

type Lane = { target: 'production' } | { target: 'preview'; branch: string };

async function queue(projectId: string, lane: Lane): Promise<string> {
  const id = newTestId();
  await state.create({ id, projectId, regions: ['us-east-1'], ...lane });
  return id;
}

const statusOf = async (id: string) =>
  (await h.db.deployment.findUniqueOrThrow({ where: { id }, select: { status: true } })).status;

/** Claims and finishes a queued deployment as a build that uploaded would. */
async function finish(id: string): Promise<void> {
  expect(await state.claim(id)).toBe('claimed');
  const event: BuildEvent = {
    type: 'uploaded',
    deploymentId: id,
    seq: 1,
    at: new Date().toISOString(),
    outputDir: 'dist',
    stats: { files: 1, bytes: 10, uploadedBytes: 10, phaseDurationsMs: { clone: 1 } },
  };
  await consumer.apply(event);
  expect(await statusOf(id)).toBe('ready');
}

describe('superseding queued deployments', () => {
  it('a push supersedes only the queued deployments of its own lane', async () => {
    const project = await h.project();
    const prod = await queue(project.id, { target: 'production' });
    const login = await queue(project.id, { target: 'preview', branch: 'feature/login' });
    const other = await queue(project.id, { target: 'preview', branch: 'feature/other' });

    const login2 = await queue(project.id, { target: 'preview', branch: 'feature/login' });
    expect(await statusOf(login)).toBe('cancelled');
    expect(await statusOf(prod)).toBe('queued');
    expect(await statusOf(other)).toBe('queued');

    await queue(project.id, { target: 'production' });
    expect(await statusOf(prod)).toBe('cancelled');
    expect(await statusOf(login2)).toBe('queued');
    expect(await statusOf(other)).toBe('queued');
    const superseded = await h.db.deployment.findUniqueOrThrow({ where: { id: login } });
    expect(superseded.error).toBe(`superseded by ${login2}`);
  });
});

describe("a preview's ready", () => {
  it('writes its own host and its branch alias, never production', async () => {
    const project = await h.project();
    const prod = await queue(project.id, { target: 'production' });
    await finish(prod);
    const preview = await queue(project.id, { target: 'preview', branch: 'feature/login' });
    await finish(preview);

    const alias = `${project.slug}-git-feature-login.localhost`;
    expect((await h.kv.routes.get(alias))?.deploymentId).toBe(preview);
    expect((await h.kv.routes.get(deploymentHost(project.slug, preview, 'localhost')))?.deploymentId).toBe(
      preview,
    );
    expect((await h.kv.routes.get(productionHost(project.slug, 'localhost')))?.deploymentId).toBe(prod);
    const row = await h.db.project.findUniqueOrThrow({ where: { id: project.id } });
    expect(row.productionDeploymentId).toBe(prod);
  });

  it('moves the alias to the newest ready preview of the branch', async () => {
    const project = await h.project();
    const first = await queue(project.id, { target: 'preview', branch: 'fix' });
    await finish(first);
    const second = await queue(project.id, { target: 'preview', branch: 'fix' });
    await finish(second);
    expect((await h.kv.routes.get(`${project.slug}-git-fix.localhost`))?.deploymentId).toBe(second);
    // No production was ever written for this project.
    expect(await h.kv.routes.get(productionHost(project.slug, 'localhost'))).toBeNull();
  });

  it('gives a branch whose label another branch holds a hashed host of its own, for good', async () => {
    const project = await h.project();
    const slash = await queue(project.id, { target: 'preview', branch: 'feature/login' });
    await finish(slash);
    const dash = await queue(project.id, { target: 'preview', branch: 'feature-login' });
    await finish(dash);
    const aliases = await h.db.branchAlias.findMany({
      where: { projectId: project.id },
      orderBy: { branch: 'asc' },
    });
    expect(aliases.map((a) => [a.branch, a.hostname])).toEqual([
      [
        'feature-login',
        expect.stringMatching(new RegExp(`^${project.slug}-git-feature-login-[0-9a-f]{6}\\.localhost$`)),
      ],
      ['feature/login', `${project.slug}-git-feature-login.localhost`],
    ]);
    expect((await h.kv.routes.get(`${project.slug}-git-feature-login.localhost`))?.deploymentId).toBe(slash);
    expect((await h.kv.routes.get(aliases[0]!.hostname))?.deploymentId).toBe(dash);
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_REGIONS } from '@deploysphere/contracts';
import { createDb, migrate, type Db } from '@deploysphere/db';
import { startLocalEdge, type LocalEdge } from '@deploysphere/edge/local';
import { startEmbeddedPostgres, startNatsServer, type EmbeddedNats } from '@deploysphere/stack';
import type { NatsConnection } from '@nats-io/transport-node';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { Registry } from 'prom-client';
import { DeploymentStateMachine } from '../src/deployments/deployment-state-machine.js';
import { StatusPublisher } from '../src/deployments/status-publisher.js';
import type { RouteStore } from '../src/hosts/route-store.js';

/**
 * The parts the deploy pipeline's pieces run on, real and started once per test file: a migrated
 * PostgreSQL, nats-server with JetStream, and Workers KV in workerd for the route records.
 */
export interface PipelineHarness {
  db: Db;
  /** For a process of a test's own (gc-races.test.ts runs a collector it kills). */
  databaseUrl: string;
  nats: EmbeddedNats;
  nc: NatsConnection;
  kv: LocalEdge;
  registry: Registry;
  state: DeploymentStateMachine;
  log: FastifyBaseLogger;
  /** A project row with the given slug (a fresh one when omitted). */
  project(slug?: string): Promise<{ id: string; slug: string }>;
  close(): Promise<void>;
}

export const newTestId = () => randomBytes(12).toString('hex');

export async function startPipelineHarness(): Promise<PipelineHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'ds-pipeline-'));
  const stops: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  try {
    const [pg, nats, kv] = await Promise.all([
      startEmbeddedPostgres({ dataDir: join(dir, 'pg') }),
      startNatsServer({ storeDir: join(dir, 'nats') }),
      startLocalEdge({
        port: 0,
        rootDomain: 'localhost',
        devMode: true,
        // Only the KV namespace is used here; the regions are never fetched from.
        regions: DEFAULT_REGIONS.map((r) => ({ ...r, endpoint: 'http://127.0.0.1:9', bucket: 'unused' })),
      }),
    ]);
    stops.push(pg.stop, nats.stop, kv.stop);
    await migrate(pg.url);
    const db = createDb(pg.url, { maxConnections: 4 });
    stops.push(() => db.$disconnect());
    const nc = await nats.connect();
    stops.push(() => nc.close());
    const registry = new Registry();
    const state = new DeploymentStateMachine({ db, status: new StatusPublisher(nc), registry });
    const log = Fastify({ logger: process.env.PIPELINE_TEST_DEBUG ? { level: 'debug' } : false }).log;
    return {
      db,
      databaseUrl: pg.url,
      nats,
      nc,
      kv,
      registry,
      state,
      log,
      async project(slug = `p-${newTestId().slice(0, 10)}`) {
        return db.project.create({
          data: {
            id: newTestId(),
            slug,
            repoUrl: 'file:///nowhere',
            installCommand: 'true',
            buildCommand: 'true',
            regions: ['us-east-1'],
          },
          select: { id: true, slug: true },
        });
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A route store over the real KV that runs `before` ahead of each write, to interleave races. */
export function interleavedRouteStore(
  kv: RouteStore,
  before: (hostname: string) => Promise<void> | void,
): RouteStore {
  return {
    async put(hostname, record) {
      await before(hostname);
      await kv.put(hostname, record);
    },
    get: (hostname) => kv.get(hostname),
    delete: (hostname) => kv.delete(hostname),
  };
}

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_REGIONS } from '@deploysphere/contracts';
import { createDb, migrate, type Db } from '@deploysphere/db';
import { startLocalEdge } from '@deploysphere/edge/local';
import { startEmbeddedPostgres, startNatsServer } from '@deploysphere/stack';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import { app, BODY_LIMIT_BYTES } from '../src/app.js';
import { loadControlPlaneConfig, storageEnvPrefix, type ControlPlaneConfig } from '../src/config.js';
import { createContext } from '../src/create-context.js';
import { MemoryOutbox } from '../src/accounts/outbox.js';
import { retryOnPortRace, StartProgress, startWithin } from './start-deadline.js';

export const TEST_ADMIN_TOKEN = 'dsk_test_admin_token_0123456789';

export interface TestApp {
  /** The control plane, ready but not listening: tests call it with `inject`. */
  app: FastifyInstance;
  config: ControlPlaneConfig;
  /** Every route as it was registered: Fastify's own list, for checks that cover them all. */
  routes: RouteOptions[];
  /** The control plane's database, to check what a request wrote (or did not). */
  db: Db;
  /** What the app sent to people (password reset links). */
  outbox: MemoryOutbox;
  /** An authenticated `/api/v1` call; a string body is sent as it is (e.g. broken JSON). */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

type Stop = () => Promise<void>;

/**
 * The control plane's app on real services, for tests that need its routes and services but not
 * a deploy: embedded PostgreSQL and NATS, chDB, and Miniflare's KV (the local edge) for route
 * records. No s3rver and no listening port, so it starts in a few seconds; start it once per test
 * file. Its config is built by loadControlPlaneConfig, as every control plane's is.
 */
export function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  return retryOnPortRace(() => startOnce(env));
}

async function startOnce(env: Record<string, string>): Promise<TestApp> {
  const progress = new StartProgress(['postgres', 'nats', 'edge KV', 'migrations', 'control plane']);
  const stops: Stop[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  const started = start(env, progress, stops).catch(async (err: unknown) => {
    await stopAll();
    throw err;
  });
  return startWithin('the test app', progress, started, async () => stopAll());
}

async function start(env: Record<string, string>, progress: StartProgress, stops: Stop[]): Promise<TestApp> {
  const dir = await mkdtemp(join(tmpdir(), 'ds-app-'));
  stops.push(() => rm(dir, { recursive: true, force: true }));
  const step = <T>(part: string, run: PromiseLike<T>) => progress.track(part, run);

  // Settled together, so one failure does not leave another's process unrecorded.
  const [pgResult, natsResult, edgeResult] = await Promise.allSettled([
    step('postgres', startEmbeddedPostgres({ dataDir: join(dir, 'pg') })),
    step('nats', startNatsServer({ storeDir: join(dir, 'nats') })),
    // No S3 runs: these tests never upload or serve a site, so the buckets are names only.
    step(
      'edge KV',
      startLocalEdge({
        port: 0,
        rootDomain: 'localhost',
        devMode: true,
        regions: DEFAULT_REGIONS.map((r) => ({
          ...r,
          endpoint: 'http://127.0.0.1:9',
          bucket: bucketOf(r.id),
        })),
      }),
    ),
  ]);
  for (const r of [edgeResult, natsResult, pgResult])
    if (r.status === 'fulfilled') stops.push(() => r.value.stop());
  for (const r of [pgResult, natsResult, edgeResult]) if (r.status === 'rejected') throw r.reason;
  const pg = (pgResult as PromiseFulfilledResult<Awaited<ReturnType<typeof startEmbeddedPostgres>>>).value;
  const nats = (natsResult as PromiseFulfilledResult<Awaited<ReturnType<typeof startNatsServer>>>).value;
  const edge = (edgeResult as PromiseFulfilledResult<Awaited<ReturnType<typeof startLocalEdge>>>).value;
  await step('migrations', migrate(pg.url));

  const credsFile = join(dir, 'control-plane.creds');
  await writeFile(credsFile, nats.credentials, { mode: 0o600 });
  const config = loadControlPlaneConfig({
    LOG_LEVEL: 'warn',
    DATABASE_URL: pg.url,
    NATS_URL: nats.url,
    NATS_CREDS_FILE: credsFile,
    NATS_BUILD_SIGNING_KEY: nats.buildSigningKey,
    CLICKHOUSE_CHDB_PATH: join(dir, 'clickhouse'),
    DEPLOYSPHERE_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    EDGE_METRICS_TOKEN: 'edge-metrics-token-for-tests',
    ENV_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    BUILD_WORK_DIR: join(dir, 'builds'),
    EDGE_URL: edge.url,
    SITES_PROTOCOL: 'http',
    SITES_PORT: new URL(edge.url).port,
    ...Object.fromEntries(DEFAULT_REGIONS.map((r) => [`${storageEnvPrefix(r.id)}BUCKET`, bucketOf(r.id)])),
    ...env,
  });

  const ctx = await createContext(config, edge.routes);
  // Messages to people (password reset links) are kept for the test to read, as a mailbox would.
  const outbox = new MemoryOutbox();
  ctx.outbox = outbox;
  const fastify = Fastify({ logger: { level: config.logLevel }, bodyLimit: BODY_LIMIT_BYTES });
  fastify.addHook('onClose', () => ctx.close());
  stops.push(() => fastify.close());
  const routes: RouteOptions[] = [];
  fastify.addHook('onRoute', (route) => void routes.push(route));
  await fastify.register(app, ctx);
  await step('control plane', fastify.ready());

  const db = createDb(config.databaseUrl, { maxConnections: 2 });
  stops.push(() => db.$disconnect());

  const api = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fastify.inject({
      method: method as 'GET',
      url: `/api/v1${path}`,
      headers: {
        authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.statusCode, body: (res.body ? JSON.parse(res.body) : undefined) as T };
  };

  return {
    app: fastify,
    config,
    routes,
    db,
    outbox,
    api,
    async stop() {
      for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
    },
  };
}

const bucketOf = (region: string) => `deploysphere-${region}`;

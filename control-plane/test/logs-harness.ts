import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { jetStreamLogTransport, LogPublisher, type LogPublisherResult } from '@deploysphere/build-worker';
import {
  deploymentStatusSubject,
  subjects,
  type DeploymentStatus,
  type LogStreamMessage,
} from '@deploysphere/contracts';
import { createDb, migrate, type Db } from '@deploysphere/db';
import { freePort, startEmbeddedPostgres, startNatsServer, type EmbeddedNats } from '@deploysphere/stack';
import websocket from '@fastify/websocket';
import type { NatsConnection } from '@nats-io/transport-node';
import Fastify, { type FastifyInstance } from 'fastify';
import { rootPrincipal, type Principal } from '../src/authz/principal.js';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { runProcess } from '../../build-worker/src/run-process.js';
import type { AppContext } from '../src/context.js';
import { createClickHouse } from '../src/infra/clickhouse.js';
import {
  ensureLogStream,
  LogService,
  logRoutes,
  migrateClickHouse,
  type LogHubOptions,
} from '../src/logs/index.js';
import { errorHandler } from '../src/plugins/error-handler.js';
import { routeServices } from '../src/plugins/services.js';
import { zodSchemas } from '../src/plugins/zod-schemas.js';
import { retryOnPortRace, StartProgress, startWithin } from './start-deadline.js';

/** Real parts for the build log tests: nats-server, chDB, embedded PostgreSQL, Fastify. */
export interface LogsHarness {
  dir: string;
  nats: EmbeddedNats;
  natsPort: number;
  natsStore: string;
  nc: NatsConnection;
  db: Db;
  clickhouse: ClickHouseClient;
  ctx: AppContext;
  app: FastifyInstance;
  base: string;
  restartNats(): Promise<void>;
  close(): Promise<void>;
}

/** The control plane's side: its own user, reconnecting forever as the real one does. */
export const connectNats = (nats: EmbeddedNats) =>
  nats.connect({ maxReconnectAttempts: -1, reconnectTimeWait: 200 });

/** The worker's side: the build's own user and inbox prefix, as build-worker/src/main.ts connects. */
export async function connectAsBuild(nats: EmbeddedNats, deploymentId: string): Promise<NatsConnection> {
  return nats.connect({
    credentials: await nats.signer.mintBuildCredentials(deploymentId, 15 * 60_000),
    inboxPrefix: subjects.buildInboxPrefix(deploymentId),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 200,
  });
}

export function startHarness(hub: LogHubOptions = {}): Promise<LogsHarness> {
  return retryOnPortRace(() => {
    const progress = new StartProgress(['nats', 'postgres', 'log routes']);
    return startWithin('the logs harness', progress, startOnce(hub, progress), (late) => late.close());
  });
}

async function startOnce(hub: LogHubOptions, progress: StartProgress): Promise<LogsHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'ds-logs-'));
  const natsStore = join(dir, 'nats');
  const natsPort = await freePort();
  // Settled together, so when one fails the other is stopped rather than left running.
  const [natsResult, pgResult] = await Promise.allSettled([
    progress.track('nats', startNatsServer({ storeDir: natsStore, port: natsPort })),
    progress.track('postgres', startEmbeddedPostgres({ dataDir: join(dir, 'pg') })),
  ]);
  if (natsResult.status === 'rejected' || pgResult.status === 'rejected') {
    for (const r of [natsResult, pgResult]) if (r.status === 'fulfilled') await r.value.stop();
    await rm(dir, { recursive: true, force: true });
    throw natsResult.status === 'rejected' ? natsResult.reason : (pgResult as PromiseRejectedResult).reason;
  }
  const nats = natsResult.value;
  const pg = pgResult.value;
  await migrate(pg.url);
  const db = createDb(pg.url);
  const nc = await connectNats(nats);
  const clickhouse = createClickHouse({ chdbPath: join(dir, 'clickhouse') });
  await migrateClickHouse(clickhouse, { logRetentionDays: 30 });
  await ensureLogStream(nc);
  const ctx = {
    config: { logRetentionDays: 30 },
    db,
    nats: nc,
    clickhouse,
    metrics: new Registry(),
  } as unknown as AppContext;
  const app = Fastify({ logger: process.env.LOGS_TEST_DEBUG ? { level: 'debug' } : false });
  const buildLogs = new LogService({ db, nats: nc, clickhouse, metrics: ctx.metrics, hub });
  app.addHook('onClose', () => buildLogs.close());
  await app.register(zodSchemas);
  await app.register(websocket);
  await app.register(errorHandler);
  await app.register(routeServices, { buildLogs });
  // These tests cover the log routes, not authentication (authorization.test.ts does): every
  // request acts as the admin token, which owns the default team these projects are in.
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request) => {
    request.principal = rootPrincipal();
  });
  await app.register(logRoutes, { prefix: '/api/v1' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  progress.finished('log routes');
  const h: LogsHarness = {
    dir,
    nats,
    natsPort,
    natsStore,
    nc,
    db,
    clickhouse,
    ctx,
    app,
    base: `127.0.0.1:${port}`,
    async restartNats() {
      await h.nats.stop();
      h.nats = await startNatsServer({ storeDir: natsStore, port: natsPort });
    },
    async close() {
      await app.close();
      await nc.drain().catch(() => undefined);
      await clickhouse.close().catch(() => undefined);
      await db.$disconnect();
      await h.nats.stop();
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}

export function newId(): string {
  let id = '';
  while (id.length < 24)
    id += randomBytes(16)
      .toString('base64')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '');
  return id.slice(0, 24);
}

/** A Project and a Deployment row, as the control plane would have them. */
export async function createDeployment(db: Db, status: DeploymentStatus = 'building'): Promise<string> {
  const id = newId();
  const slug = `p-${id.slice(0, 10)}`;
  await db.project.create({
    data: {
      id: newId(),
      slug,
      repoUrl: 'https://example.com/repo.git',
      installCommand: 'npm ci',
      buildCommand: 'npm run build',
      regions: ['us-east-1'],
      deployments: { create: { id, status, regions: ['us-east-1'] } },
    },
  });
  return id;
}

/**
 * The worker's side for real: a child process prints `lines` lines (some with the secret), read
 * by the build worker's process reader into the real LogPublisher, on a NATS connection with the
 * build's own credentials.
 */
export async function runPrintingBuild(opts: {
  nats: EmbeddedNats;
  deploymentId: string;
  lines: number;
  secret: string;
  /** Called as lines are published; e.g. to restart nats-server mid-build. */
  onProgress?: (publisher: LogPublisher) => void;
}): Promise<LogPublisherResult> {
  const nc = await connectAsBuild(opts.nats, opts.deploymentId);
  const publisher = new LogPublisher(jetStreamLogTransport(nc), {
    deploymentId: opts.deploymentId,
    secrets: [opts.secret],
  });
  const script = `
    const n = ${opts.lines};
    const secret = process.env.API_KEY;
    let out = '';
    for (let i = 1; i <= n; i++) {
      out += i % 10000 === 0 ? 'line ' + i + ' key=' + secret + '\\n' : 'line ' + i + ' \\u001b[32mok\\u001b[0m\\n';
      if (out.length > 65536) { process.stdout.write(out); out = ''; }
    }
    process.stdout.write(out);`;
  let count = 0;
  const result = await runProcess(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', API_KEY: opts.secret },
    onLine: (stream, line) => {
      publisher.write(stream, line);
      if (++count % 1000 === 0) opts.onProgress?.(publisher);
    },
  });
  if (result.code !== 0) throw new Error(`printer exited with ${result.code}`);
  const published = await publisher.close(60_000);
  await nc.drain();
  return published;
}

export async function publishStatus(nc: NatsConnection, deploymentId: string, status: DeploymentStatus) {
  nc.publish(
    deploymentStatusSubject(deploymentId),
    JSON.stringify({ deploymentId, status, phase: null, error: null, at: new Date().toISOString() }),
  );
  await nc.flush();
}

export interface WsClient {
  socket: WebSocket;
  messages: LogStreamMessage[];
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
}

export function openLogStream(base: string, deploymentId: string, query = ''): WsClient {
  const socket = new WebSocket(`ws://${base}/api/v1/deployments/${deploymentId}/logs/stream${query}`);
  const messages: LogStreamMessage[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as LogStreamMessage));
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    socket.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  return { socket, messages, opened, closed };
}

export async function rowStats(clickhouse: ClickHouseClient, deploymentId: string) {
  const [row] = await (
    await clickhouse.query({
      query: `SELECT count() AS rows, uniqExact(seq) AS distinct, min(seq) AS first, max(seq) AS last
              FROM build_logs WHERE deployment_id = {id:String}`,
      query_params: { id: deploymentId },
      format: 'JSONEachRow',
    })
  ).json<Record<string, string | number>>();
  return {
    rows: Number(row!.rows),
    distinct: Number(row!.distinct),
    first: Number(row!.first),
    last: Number(row!.last),
  };
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000, what = 'condition') {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

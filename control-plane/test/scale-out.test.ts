import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LogBatchSchema,
  STREAMS,
  subjects,
  TERMINAL_STATUSES,
  type DeploymentView,
  type LogStreamMessage,
} from '@deploysphere/contracts';
import { createDb, type Db } from '@deploysphere/db';
import {
  freePort,
  S3RVER_CREDENTIALS,
  startEmbeddedPostgres,
  startNatsServer,
  startS3rver,
  type EmbeddedNats,
  type EmbeddedPostgresHandle,
  type EmbeddedS3,
} from '@deploysphere/stack';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageEnvPrefix } from '../src/config.js';
import { alive, descendants, runStart, waitForOutput, type CliRun } from './cli-process.js';
import { GitRepo } from './git-repo.js';
import WebSocket from 'ws';

// Two control planes share one PostgreSQL, one NATS and the region's bucket, behind a load
// balancer (a small round-robin proxy here) that build workers reach them through. Each is the
// local platform's process with its own port, edge and chDB; everything they coordinate on is
// shared, as with N replicas in production (docs/production.md).

const TOKEN = 'scale-out-test-admin-token-0123456789';
const REGION = 'us-east-1';
const GC_INTERVAL_MS = 3_000;

let dir: string;
let pg: EmbeddedPostgresHandle;
let nats: EmbeddedNats;
let s3: EmbeddedS3;
let lb: Balancer;
let db: Db;
let nc: NatsConnection;
let repo: GitRepo;
const runs: CliRun[] = [];

interface Plane {
  name: 'A' | 'B';
  run: CliRun;
  port: number;
  edgePort: number;
}
let A: Plane;
let B: Plane;

/**
 * Round-robin over the replicas; a replica that refuses the connection (it died) is skipped and
 * the request sent to the next, as a load balancer's health check would take it out.
 */
interface Balancer {
  url: string;
  backends: number[];
  stop(): Promise<void>;
}

async function startBalancer(backends: number[]): Promise<Balancer> {
  let next = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const attempt = (tries: number) => {
        const port = backends[next++ % backends.length]!;
        const out = httpRequest(
          { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
          (upRes: IncomingMessage) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        out.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'ECONNREFUSED' && tries < backends.length) attempt(tries + 1);
          else res.writeHead(502).end();
        });
        out.end(body);
      };
      attempt(1);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    backends,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-scale-out-'));
  [pg, nats, s3] = await Promise.all([
    startEmbeddedPostgres({ dataDir: join(dir, 'pg') }),
    startNatsServer({ storeDir: join(dir, 'nats') }),
    startS3rver({ directory: join(dir, 's3'), buckets: ['scale-out'] }),
  ]);
  await writeFile(join(dir, 'control-plane.creds'), nats.credentials, { mode: 0o600 });
  const [portA, portB, edgeA, edgeB] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  lb = await startBalancer([portA, portB]);
  const prefix = storageEnvPrefix(REGION);
  const shared = {
    DATABASE_URL: pg.url,
    NATS_URL: nats.url,
    NATS_CREDS_FILE: join(dir, 'control-plane.creds'),
    NATS_BUILD_SIGNING_KEY: nats.buildSigningKey,
    // Every replica must hold the same secrets: one encrypts what another decrypts.
    DEPLOYSPHERE_ADMIN_TOKEN: TOKEN,
    ENV_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    REGIONS: JSON.stringify([{ id: REGION, name: 'N. Virginia', latitude: 38.9, longitude: -77.4 }]),
    [`${prefix}ENDPOINT`]: s3.endpoint,
    [`${prefix}BUCKET`]: 'scale-out',
    [`${prefix}ACCESS_KEY_ID`]: S3RVER_CREDENTIALS.accessKeyId,
    [`${prefix}SECRET_ACCESS_KEY`]: S3RVER_CREDENTIALS.secretAccessKey,
    // Workers reach the control planes through the balancer, so any replica answers them.
    CONTROL_PLANE_URL: lb.url,
    HEARTBEAT_TIMEOUT_MS: '30000',
    GC_INTERVAL_MS: String(GC_INTERVAL_MS),
    GC_LEASE_MS: '5000',
  };
  const start = async (name: 'A' | 'B', port: number, edgePort: number): Promise<Plane> => {
    const run = runStart({
      ...shared,
      DATA_DIR: join(dir, `data-${name}`),
      PORT: String(port),
      EDGE_PORT: String(edgePort),
    });
    runs.push(run);
    await waitForOutput(run, /Ready\. Press Ctrl-C to stop\./, 180_000);
    return { name, run, port, edgePort };
  };
  A = await start('A', portA, edgeA);
  B = await start('B', portB, edgeB);
  db = createDb(pg.url, { maxConnections: 2 });
  nc = await nats.connect();
  repo = await GitRepo.create({ 'README.md': 'scaled out' });
}, 400_000);

afterAll(async () => {
  for (const run of runs) if (run.child.exitCode === null) run.child.kill('SIGTERM');
  await Promise.all(runs.map((r) => r.exited));
  await nc?.close();
  await db?.$disconnect();
  await lb?.stop();
  await s3?.stop();
  await nats?.stop();
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
}, 120_000);

async function api<T>(plane: Plane, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${plane.port}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} on ${plane.name}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

let projectSeq = 0;
/** A project created through `plane`, and a deployment of it queued through `queueOn`. */
async function deploy(plane: Plane, queueOn: Plane, buildCommand: string): Promise<string> {
  const slug = `scale-${++projectSeq}`;
  await api(plane, 'POST', '/projects', {
    slug,
    repoUrl: repo.url,
    installCommand: '',
    buildCommand,
    regions: [REGION],
  });
  const d = await api<DeploymentView>(queueOn, 'POST', `/projects/${slug}/deployments`, {});
  return d.id;
}

async function waitAllTerminal(ids: string[], timeoutMs: number): Promise<Map<string, DeploymentView>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = await Promise.all(ids.map((id) => api<DeploymentView>(B, 'GET', `/deployments/${id}`)));
    if (views.every((v) => TERMINAL_STATUSES.has(v.status))) return new Map(views.map((v) => [v.id, v]));
    if (Date.now() > deadline) {
      const open = views
        .filter((v) => !TERMINAL_STATUSES.has(v.status))
        .map((v) => `${v.id}: ${v.status}/${v.phase}`);
      const rows = await db.deployment.findMany({
        where: { id: { in: ids }, status: { in: ['queued', 'building'] } },
        select: {
          id: true,
          runnerKind: true,
          bootstrapTokenHash: true,
          buildTokenHash: true,
          lastHeartbeatAt: true,
          lastEventSeq: true,
        },
      });
      throw new Error(`deployments still unfinished: ${open.join(', ')}\n${JSON.stringify(rows, null, 1)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every log line the build published for a deployment, read from the JetStream stream itself. */
async function publishedLines(id: string): Promise<string[]> {
  const consumer = await jetstream(nc).consumers.get(STREAMS.buildLogs, {
    filter_subjects: subjects.buildLog(id),
    deliver_policy: DeliverPolicy.All,
  });
  const lines: string[] = [];
  for (;;) {
    const msg = await consumer.next({ expires: 2_000 });
    if (!msg) return lines;
    const batch = LogBatchSchema.parse(JSON.parse(msg.string()));
    lines.push(...batch.lines.map((l) => l.message));
    if (msg.info.pending === 0) return lines;
  }
}

/** The build worker processes running below a control plane's process. */
const workersOf = (plane: Plane) =>
  alive(descendants(plane.run.child.pid!)).filter((p) => p.includes('build-worker'));

describe('two control planes on one database and NATS', () => {
  it('20 deployments queued through both build exactly once each, and garbage collection runs once per interval', async () => {
    const firstGc = new Date();
    // The shell computes the marker, so the echoed command line ("Running: …") does not hold it.
    const marker = 'scale-out-build-ran-42';
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        deploy(
          i % 2 ? A : B,
          i % 2 ? B : A,
          'mkdir -p out && echo ok > out/index.html && echo scale-out-build-ran-$((6 * 7))',
        ),
      ),
    );
    const done = await waitAllTerminal(ids, 360_000);
    for (const [id, d] of done) expect(d.status, `${id}: ${d.error}`).toBe('ready');
    // A build that ran twice would have printed its marker twice into its deployment's log.
    for (const id of ids) {
      const lines = await publishedLines(id);
      const said = [A, B].flatMap((p) =>
        `${p.run.stdout()}\n${p.run.stderr()}`
          .split('\n')
          .filter((l) => l.includes(id))
          .map((l) => `${p.name}: ${l.slice(0, 400)}`),
      );
      expect(
        lines.filter((l) => l === marker),
        `${id}\n${lines.join('\n')}\n${said.join('\n')}`,
      ).toHaveLength(1);
    }
    const rows = await db.deployment.findMany({
      where: { id: { in: ids } },
      select: { runnerAttempt: true },
    });
    expect(rows.every((r) => r.runnerAttempt <= 1)).toBe(true);

    // Both replicas tick every few hundred milliseconds; runs never overlap and start at least
    // an interval apart, whichever replica runs them.
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 60_000;
      const check = async () => {
        const n = await db.gcRun.count({ where: { status: 'completed', startedAt: { gte: firstGc } } });
        if (n >= 2) return resolve();
        if (Date.now() > deadline) return reject(new Error(`only ${n} garbage collections ran`));
        setTimeout(() => void check().catch(reject), 250);
      };
      void check().catch(reject);
    });
    const gcRuns = await db.gcRun.findMany({ where: { trigger: 'schedule' }, orderBy: { startedAt: 'asc' } });
    for (let i = 1; i < gcRuns.length; i++) {
      const prev = gcRuns[i - 1]!;
      const cur = gcRuns[i]!;
      expect(cur.startedAt.getTime() - prev.startedAt.getTime()).toBeGreaterThanOrEqual(GC_INTERVAL_MS);
      expect(cur.startedAt.getTime()).toBeGreaterThanOrEqual(prev.finishedAt!.getTime());
    }
  }, 600_000);

  it('a websocket on one control plane streams the live logs of a build the other dispatched', async () => {
    const id = await deploy(
      A,
      A,
      'for i in 1 2 3 4 5 6; do echo live-line-$i; sleep 1; done; mkdir -p out && echo ok > out/index.html',
    );
    // Only this build runs now: the control plane with a build worker below it dispatched it.
    let dispatcher: Plane | undefined;
    const deadline = Date.now() + 120_000;
    while (!dispatcher) {
      if (workersOf(A).length > 0) dispatcher = A;
      else if (workersOf(B).length > 0) dispatcher = B;
      else if (Date.now() > deadline) throw new Error('the build never started');
      else await new Promise((r) => setTimeout(r, 100));
    }
    const viewer = dispatcher === A ? B : A;
    const socket = new WebSocket(`ws://127.0.0.1:${viewer.port}/api/v1/deployments/${id}/logs/stream`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const messages: LogStreamMessage[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data)) as LogStreamMessage));
    const code = await new Promise<number>((resolve, reject) => {
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      socket.once('error', reject);
      socket.once('close', (c) => resolve(c));
    });
    expect(code).toBe(1000);
    const lines = messages.flatMap((m) => (m.type === 'log' ? [m.message] : []));
    for (let i = 1; i <= 6; i++) expect(lines).toContain(`live-line-${i}`);
    expect(messages.at(-1)).toMatchObject({ type: 'end', status: 'ready' });
  }, 300_000);

  it('killing one control plane mid-build still ends every deployment, through the other', async () => {
    const ids = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        deploy(i % 2 ? A : B, i % 2 ? B : A, 'sleep 4 && mkdir -p out && echo ok > out/index.html'),
      ),
    );
    // Kill A once it is running a build of these.
    const deadline = Date.now() + 180_000;
    while (workersOf(A).length === 0) {
      if (Date.now() > deadline) throw new Error('A never ran one of the builds');
      await new Promise((r) => setTimeout(r, 100));
    }
    const below = alive(descendants(A.run.child.pid!));
    A.run.child.kill('SIGKILL');
    await A.run.exited;
    // Its edge runtime went with it; its build workers live on and report to B (through NATS,
    // and through the balancer for their upload grants).
    for (const p of below) if (p.includes('workerd')) process.kill(Number(p.split(' ')[0]), 'SIGKILL');

    const done = await waitAllTerminal(ids, 300_000);
    for (const [id, d] of done) expect(d.status, `${id}: ${d.error}`).toBe('ready');
  }, 600_000);
});

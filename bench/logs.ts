/**
 * `npm run bench:logs`: the build log path on the local stack, loopback only.
 *
 *   (a) throughput: a child process prints 500,000 lines to stdout; the build worker's process
 *       reader and LogPublisher send them to JetStream; the control plane's ingester commits them
 *       to ClickHouse (chDB). Lines/s from the child's start to the last committed row.
 *   (b) latency: a child prints 1,000 lines/s for 10 s, each carrying its emission time; a
 *       websocket client on the live stream measures emission → arrival, p50 and p99.
 *
 * Targets: ≥ 50,000 lines/s and p99 ≤ 250 ms. Every loop is bounded, and everything started here
 * is stopped in `finally`, also on Ctrl-C.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetStreamLogTransport, LogPublisher } from '@deploysphere/build-worker';
import { subjects, type LogStreamMessage } from '@deploysphere/contracts';
import { createDb, migrate } from '@deploysphere/db';
import { startEmbeddedPostgres, startNatsServer } from '@deploysphere/stack';
import websocket from '@fastify/websocket';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { runProcess } from '../build-worker/src/run-process.js';
import type { AppContext } from '../control-plane/src/context.js';
import { createClickHouse } from '../control-plane/src/infra/clickhouse.js';
import {
  ensureLogStream,
  logRoutes,
  migrateClickHouse,
  startLogIngester,
} from '../control-plane/src/logs/index.js';
import { errorHandler } from '../control-plane/src/plugins/error-handler.js';

const THROUGHPUT_LINES = 500_000;
const LATENCY_RATE = 1000;
const LATENCY_SECONDS = 10;
const TARGET_LINES_PER_S = 50_000;
const TARGET_P99_MS = 250;
const DEADLINE_MS = 120_000;

const cleanups: (() => Promise<unknown>)[] = [];
async function cleanup() {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  cleanups.length = 0;
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

const id = (n: number) => `bench${String(n).padStart(19, '0')}`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'ds-bench-logs-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const [nats, pg] = await Promise.all([
    startNatsServer({ storeDir: join(dir, 'nats') }),
    startEmbeddedPostgres({ dataDir: join(dir, 'pg') }),
  ]);
  cleanups.push(
    () => nats.stop(),
    () => pg.stop(),
  );
  await migrate(pg.url);
  const db = createDb(pg.url);
  cleanups.push(() => db.$disconnect());
  const nc = await nats.connect();
  cleanups.push(() => nc.drain());
  const clickhouse = createClickHouse({ chdbPath: join(dir, 'clickhouse') });
  cleanups.push(() => clickhouse.close());
  await migrateClickHouse(clickhouse, { logRetentionDays: 30 });
  await ensureLogStream(nc);
  const ctx = { db, nats: nc, clickhouse, metrics: new Registry() } as unknown as AppContext;
  const ingester = await startLogIngester(ctx);
  cleanups.push(() => ingester.stop());

  const runPrinter = async (deploymentId: string, script: string) => {
    // The worker's own NATS connection with the build's own user, as in build-worker/src/main.ts.
    const workerNc = await nats.connect({
      credentials: await nats.signer.mintBuildCredentials(deploymentId, DEADLINE_MS),
      inboxPrefix: subjects.buildInboxPrefix(deploymentId),
    });
    cleanups.push(() => workerNc.drain());
    const publisher = new LogPublisher(jetStreamLogTransport(workerNc), {
      deploymentId,
      secrets: ['bench-secret-value'],
    });
    const r = await runProcess(process.execPath, ['-e', script], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      onLine: (stream, line) => publisher.write(stream, line),
      timeoutMs: DEADLINE_MS,
    });
    if (r.code !== 0) throw new Error(`printer exited with ${r.code}`);
    const published = await publisher.close();
    if (!published.delivered) throw new Error('log lines were not delivered');
  };
  const committed = async (deploymentId: string) => {
    const [row] = await (
      await clickhouse.query({
        query: 'SELECT count() AS n FROM build_logs WHERE deployment_id = {id:String}',
        query_params: { id: deploymentId },
        format: 'JSONEachRow',
      })
    ).json<{ n: string }>();
    return Number(row!.n);
  };

  // (a) throughput
  const tId = id(1);
  const t0 = performance.now();
  const printing = runPrinter(
    tId,
    `let out = ''; for (let i = 1; i <= ${THROUGHPUT_LINES}; i++) { out += 'npm info build step ' + i + ' \\u001b[32mok\\u001b[0m\\n'; if (out.length > 65536) { process.stdout.write(out); out = ''; } } process.stdout.write(out);`,
  );
  while ((await committed(tId)) < THROUGHPUT_LINES) {
    if (performance.now() - t0 > DEADLINE_MS) throw new Error('throughput run exceeded its deadline');
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsed = (performance.now() - t0) / 1000;
  await printing;
  const linesPerS = THROUGHPUT_LINES / elapsed;

  // (b) latency, through the real websocket route
  const project = await db.project.create({
    data: {
      id: id(9),
      slug: 'bench-logs',
      repoUrl: 'https://example.com/r.git',
      installCommand: 'true',
      buildCommand: 'true',
      regions: ['us-east-1'],
    },
  });
  const lId = id(2);
  await db.deployment.create({ data: { id: lId, projectId: project.id, status: 'building', regions: [] } });
  const app = Fastify();
  cleanups.push(() => app.close());
  await app.register(websocket);
  await app.register(errorHandler);
  await app.register(logRoutes, { prefix: '/api/v1', ctx });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const latencies: number[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/deployments/${lId}/logs/stream`);
  cleanups.push(async () => ws.terminate());
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as LogStreamMessage;
    if (msg.type !== 'log') return;
    const emitted = Number(/^emit (\S+)/.exec(msg.message)?.[1]);
    if (Number.isFinite(emitted)) latencies.push(performance.timeOrigin + performance.now() - emitted);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const total = LATENCY_RATE * LATENCY_SECONDS;
  await runPrinter(
    lId,
    // 10 lines every 10 ms, each stamped with the wall clock at the moment it is written.
    `const { performance } = require('node:perf_hooks'); let i = 0; const t = setInterval(() => { for (let k = 0; k < ${LATENCY_RATE / 100} && i < ${total}; k++, i++) process.stdout.write('emit ' + (performance.timeOrigin + performance.now()).toFixed(3) + ' line ' + i + '\\n'); if (i >= ${total}) clearInterval(t); }, 10);`,
  );
  const until = performance.now() + 10_000;
  while (latencies.length < total && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
  const sorted = [...latencies].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);

  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  console.log('build logs benchmark (loopback, nats-server + chDB in process)');
  console.log(
    `  throughput  ${THROUGHPUT_LINES} lines stdout -> ClickHouse in ${elapsed.toFixed(2)} s: ` +
      `${Math.round(linesPerS)} lines/s (target >= ${TARGET_LINES_PER_S}: ${pct(linesPerS / TARGET_LINES_PER_S)} of target)`,
  );
  console.log(
    `  latency     ${latencies.length}/${total} lines at ${LATENCY_RATE} lines/s, emission -> websocket: ` +
      `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (target p99 <= ${TARGET_P99_MS} ms: ` +
      `${pct(p99 / TARGET_P99_MS)} of budget)`,
  );
  const ok = linesPerS >= TARGET_LINES_PER_S && p99 <= TARGET_P99_MS && latencies.length === total;
  console.log(ok ? '  PASS' : '  BELOW TARGET');
  return ok ? 0 : 1;
}

main().then(
  async (code) => {
    await cleanup();
    process.exit(code);
  },
  async (err: unknown) => {
    console.error(err);
    await cleanup();
    process.exit(1);
  },
);

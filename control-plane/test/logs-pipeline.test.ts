import { jetstreamManager } from '@nats-io/jetstream';
import { STREAMS } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLogIngester } from '../src/logs/index.js';
import {
  connectNats,
  createDeployment,
  openLogStream,
  publishStatus,
  rowStats,
  runPrintingBuild,
  startHarness,
  waitFor,
  type LogsHarness,
} from './logs-harness.js';

// The "must show" list, against real nats-server, chDB and PostgreSQL: a 100,000-line
// build ends as exactly 100,000 rows and reaches a websocket viewer whole and in order, and
// neither a nats-server restart, ClickHouse going away for 10 s, nor an ingester crash between
// insert and ack loses or doubles a line. The planted secret appears nowhere.

const LINES = 100_000;
const SECRET = 'sk_live_planted_7f3a9c2e1b';

let h: LogsHarness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function secretCount(): Promise<number> {
  const [row] = await (
    await h.clickhouse.query({
      query: 'SELECT countIf(position(message, {s:String}) > 0) AS n FROM build_logs',
      query_params: { s: SECRET },
      format: 'JSONEachRow',
    })
  ).json<{ n: string }>();
  return Number(row!.n);
}

async function expectExactly(deploymentId: string, lines: number) {
  await waitFor(async () => (await rowStats(h.clickhouse, deploymentId)).rows >= lines, 60_000, 'all rows');
  // Give a stray duplicate the chance to land before counting.
  await new Promise((r) => setTimeout(r, 500));
  expect(await rowStats(h.clickhouse, deploymentId)).toEqual({
    rows: lines,
    distinct: lines,
    first: 1,
    last: lines,
  });
}

describe('build logs end to end', () => {
  it('stores exactly 100,000 rows and streams every line in order to two viewers sharing one upstream', async () => {
    const ingester = await startLogIngester(h.ctx);
    try {
      const id = await createDeployment(h.db);
      const a = openLogStream(h.base, id);
      const b = openLogStream(h.base, id);
      await Promise.all([a.opened, b.opened]);

      const built = await runPrintingBuild({
        nats: h.nats,
        deploymentId: id,
        lines: LINES,
        secret: SECRET,
      });
      expect(built).toEqual({ lastSeq: LINES, delivered: true, dropped: 0 });

      // Many viewers, one upstream: the durable ingester plus a single ordered consumer.
      const jsm = await jetstreamManager(h.nc);
      const consumers = await jsm.consumers.list(STREAMS.buildLogs).next();
      expect(consumers.length).toBe(2);

      await h.db.deployment.update({ where: { id }, data: { status: 'ready' } });
      await publishStatus(h.nc, id, 'ready');
      const [closeA, closeB] = await Promise.all([a.closed, b.closed]);
      expect(closeA.code).toBe(1000);
      expect(closeB.code).toBe(1000);

      for (const viewer of [a, b]) {
        const logs = viewer.messages.filter((m) => m.type === 'log');
        expect(logs.length).toBe(LINES);
        expect(logs.every((m, i) => m.seq === i + 1)).toBe(true);
        expect(logs[0]!.message).toBe('line 1 \u001b[32mok\u001b[0m'); // ANSI kept
        expect(viewer.messages[0]).toMatchObject({ type: 'status', status: 'building' });
        expect(viewer.messages.at(-2)).toMatchObject({ type: 'status', status: 'ready' });
        expect(viewer.messages.at(-1)).toEqual({ type: 'end', lastSeq: LINES, status: 'ready' });
        expect(JSON.stringify(viewer.messages)).not.toContain(SECRET);
      }
      await expectExactly(id, LINES);
      expect(await secretCount()).toBe(0);

      // A reconnect with ?after= gets only newer lines (replayed from ClickHouse and the stream).
      const again = openLogStream(h.base, id, `?after=${LINES - 5}`);
      await again.closed;
      expect(again.messages.filter((m) => m.type === 'log').map((m) => m.seq)).toEqual([
        99_996, 99_997, 99_998, 99_999, 100_000,
      ]);
    } finally {
      await ingester.stop();
    }
  });

  it('restarting nats-server in the middle of the build still ends with exactly 100,000 rows', async () => {
    const ingester = await startLogIngester(h.ctx);
    try {
      const id = await createDeployment(h.db);
      let restart: Promise<void> | undefined;
      const built = await runPrintingBuild({
        nats: h.nats,
        deploymentId: id,
        lines: LINES,
        secret: SECRET,
        onProgress: (p) => {
          if (!restart && p.lastSeq >= 30_000) restart = h.restartNats();
        },
      });
      await restart;
      expect(restart).toBeDefined();
      expect(built.delivered).toBe(true);
      await expectExactly(id, LINES);
    } finally {
      await ingester.stop();
    }
  });

  it('ClickHouse unavailable for 10 s during ingestion: every row arrives after recovery, none twice', async () => {
    const errors: string[] = [];
    const ingester = await startLogIngester(h.ctx, { onError: (m) => errors.push(m) });
    try {
      const id = await createDeployment(h.db);
      const build = runPrintingBuild({
        nats: h.nats,
        deploymentId: id,
        lines: LINES,
        secret: SECRET,
      });
      await waitFor(async () => (await rowStats(h.clickhouse, id)).rows > 0, 30_000, 'first rows');
      // A real outage of the table: inserts fail with UNKNOWN_TABLE until it is attached again.
      await h.clickhouse.command({ query: 'DETACH TABLE build_logs' });
      await new Promise((r) => setTimeout(r, 10_000));
      await h.clickhouse.command({ query: 'ATTACH TABLE build_logs' });
      expect((await build).delivered).toBe(true);
      await expectExactly(id, LINES);
      expect(errors.some((e) => /retrying/.test(e))).toBe(true);
    } finally {
      await ingester.stop();
    }
  });

  it('an ingester killed between insert and ack duplicates no line', async () => {
    const id = await createDeployment(h.db);
    // The doomed ingester has its own connection, so "killing" it (closing that connection with
    // no acks sent) leaves everything else running, as a crashed replica would.
    const doomedNc = await connectNats(h.nats);
    let crashed = false;
    const doomed = await startLogIngester(
      { ...h.ctx, nats: doomedNc },
      {
        ackWaitMs: 2000,
        onError: () => undefined,
        afterInsert: async (lines) => {
          // Only a batch of this build counts: the stream may still hold other tests' messages.
          if (!lines.some((l) => l.deploymentId === id)) return;
          crashed = true;
          await doomedNc.close();
          throw new Error('killed between insert and ack');
        },
      },
    );
    const built = await runPrintingBuild({
      nats: h.nats,
      deploymentId: id,
      lines: 20_000,
      secret: SECRET,
    });
    expect(built.delivered).toBe(true);
    await waitFor(async () => crashed, 30_000, 'the crash');
    await doomed.stop();
    const inserted = (await rowStats(h.clickhouse, id)).rows;
    expect(inserted).toBeGreaterThan(0);

    const next = await startLogIngester(h.ctx, { ackWaitMs: 2000 });
    try {
      // The redelivered messages reach the new ingester (after ack_wait) and are found stored.
      const skipped = async () =>
        Number(
          / (\d+)$/m.exec(
            await h.ctx.metrics.getSingleMetricAsString('build_logs_duplicate_lines_total'),
          )?.[1] ?? 0,
        );
      await waitFor(async () => (await skipped()) > 0, 30_000, 'the redelivery');
      await expectExactly(id, 20_000);
    } finally {
      await next.stop();
    }
  });
});

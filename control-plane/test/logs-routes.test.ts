import { jetStreamLogTransport, LogPublisher } from '@deploysphere/build-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateClickHouse, startLogIngester } from '../src/logs/index.js';
import {
  connectAsBuild,
  createDeployment,
  newId,
  openLogStream,
  publishStatus,
  rowStats,
  startHarness,
  waitFor,
  type LogsHarness,
} from './logs-harness.js';

// The log search routes and the live stream's edges, on real nats-server, chDB and PostgreSQL.

const SECRET = 'ghp_planted_SECRET_0123456789';

let h: LogsHarness;
let ingester: { stop(): Promise<void> };
let id: string;
let slug: string;

/** Publishes lines through the worker's real publisher, then waits for them in ClickHouse. */
async function publish(
  deploymentId: string,
  lines: [stream: 'stdout' | 'stderr' | 'system', text: string][],
) {
  const nc = await connectAsBuild(h.nats, deploymentId);
  const p = new LogPublisher(jetStreamLogTransport(nc), { deploymentId, secrets: [SECRET] });
  for (const [stream, text] of lines) p.write(stream, text);
  const r = await p.close();
  await nc.drain();
  await waitFor(async () => (await rowStats(h.clickhouse, deploymentId)).rows === r.lastSeq, 30_000, 'rows');
}

const get = (path: string) => fetch(`http://${h.base}/api/v1${path}`);

interface Body {
  lines: { seq: number; message: string; deploymentId: string }[];
  nextAfter?: number;
  error: { field?: string };
}
const json = async (path: string): Promise<Body> => (await (await get(path)).json()) as Body;

beforeAll(async () => {
  // A tiny buffer limit, so the slow-client test needs little traffic.
  // The limit leaves a reader in this same (possibly busy) process ample room to keep up, while a
  // paused reader still passes it several times over (30 MB sent, kernel buffers hold a few).
  h = await startHarness({ maxBufferedBytes: 6 * 1024 * 1024, endGraceMs: 300 });
  ingester = await startLogIngester(h.ctx, { flushIntervalMs: 50 });
  id = await createDeployment(h.db, 'ready');
  slug = (await h.db.deployment.findUniqueOrThrow({ where: { id }, include: { project: true } })).project
    .slug;
  await publish(id, [
    ['system', `Running: deploy --token ${SECRET}`],
    ['stdout', 'Compiling Widgets'],
    ['stderr', 'warning: widget deprecated'],
    ['stdout', `multi ${SECRET.slice(0, 10)}`],
    ['stdout', 'Done in 3s'],
  ]);
});
afterAll(async () => {
  await ingester?.stop();
  await h?.close();
});

describe('GET /deployments/:id/logs', () => {
  it('pages by seq and filters by case-insensitive substring and stream', async () => {
    const page = await json(`/deployments/${id}/logs?after=1&limit=2`);
    expect(page.lines.map((l: { seq: number }) => l.seq)).toEqual([2, 3]);
    expect(page.nextAfter).toBe(3);
    const q = await json(`/deployments/${id}/logs?q=WIDGET`);
    expect(q.lines.map((l: { message: string }) => l.message)).toEqual([
      'Compiling Widgets',
      'warning: widget deprecated',
    ]);
    const s = await json(`/deployments/${id}/logs?stream=stderr`);
    expect(s.lines).toHaveLength(1);
    const none = await json(`/deployments/${id}/logs?after=99`);
    expect(none).toEqual({ lines: [], nextAfter: 99 });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=abc', 'limit'],
    ['after=-1', 'after'],
    ['stream=stdin', 'stream'],
    [`q=${'x'.repeat(201)}`, 'q'],
  ])('rejects %s naming the field', async (query, field) => {
    const res = await get(`/deployments/${id}/logs?${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Body).error.field).toBe(field);
  });

  it('answers 404 for an unknown or malformed deployment', async () => {
    expect((await get(`/deployments/${newId()}/logs`)).status).toBe(404);
    expect((await get(`/deployments/NOT-AN-ID/logs`)).status).toBe(404);
  });
});

describe('GET /logs/search', () => {
  it('searches across deployments, by project and since, newest first', async () => {
    const other = await createDeployment(h.db, 'ready');
    await publish(other, [['stdout', 'Compiling gadgets']]);
    const all = await json('/logs/search?q=compiling');
    expect(all.lines.map((l: { deploymentId: string }) => l.deploymentId)).toEqual([other, id]);
    expect(all.lines[1]).toMatchObject({ projectSlug: slug, seq: 2, stream: 'stdout' });
    const mine = await json(`/logs/search?q=compiling&project=${slug}`);
    expect(mine.lines).toHaveLength(1);
    const later = await json(`/logs/search?q=compiling&since=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(later.lines).toHaveLength(0);
  });

  it('validates q, since and limit, and 404s an unknown project', async () => {
    expect((await json('/logs/search')).error.field).toBe('q');
    expect((await json('/logs/search?q=a&since=yesterday')).error.field).toBe('since');
    expect((await json('/logs/search?q=a&limit=5000')).error.field).toBe('limit');
    expect((await get('/logs/search?q=a&project=no-such-project')).status).toBe(404);
  });
});

describe('secrets', () => {
  it('never stores or streams a planted secret, system lines included', async () => {
    const found = await json(`/logs/search?q=${encodeURIComponent(SECRET)}`);
    expect(found.lines).toHaveLength(0);
    const masked = await json(`/deployments/${id}/logs?q=********`);
    expect(masked.lines[0]).toMatchObject({ stream: 'system', message: 'Running: deploy --token ********' });
    const ws = openLogStream(h.base, id);
    await ws.closed;
    expect(ws.messages.filter((m) => m.type === 'log')).toHaveLength(5);
    expect(JSON.stringify(ws.messages)).not.toContain(SECRET);
  });
});

describe('WS /deployments/:id/logs/stream', () => {
  it('replays a finished deployment from ClickHouse and ends', async () => {
    const ws = openLogStream(h.base, id, '?after=3');
    expect(await ws.closed).toEqual({ code: 1000, reason: 'build finished' });
    expect(ws.messages[0]).toMatchObject({ type: 'status', status: 'ready' });
    expect(ws.messages.filter((m) => m.type === 'log').map((m) => m.seq)).toEqual([4, 5]);
    expect(ws.messages.at(-1)).toEqual({ type: 'end', lastSeq: 5, status: 'ready' });
  });

  it('refuses an unknown deployment and a bad ?after before upgrading', async () => {
    await expect(openLogStream(h.base, newId()).opened).rejects.toThrow('HTTP 404');
    await expect(openLogStream(h.base, id, '?after=x').opened).rejects.toThrow('HTTP 400');
  });

  it('drops a client that stops reading, with a reason, and ends a live build for readers', async () => {
    const live = await createDeployment(h.db, 'building');
    const slow = openLogStream(h.base, live);
    const fast = openLogStream(h.base, live);
    await Promise.all([slow.opened, fast.opened]);
    // Stop reading: the kernel buffers fill, then the server's own buffer passes its limit.
    slow.socket.pause();
    const nc = await connectAsBuild(h.nats, live);
    const p = new LogPublisher(jetStreamLogTransport(nc), { deploymentId: live });
    const line = 'y'.repeat(1000);
    for (let i = 0; i < 30_000; i++) p.write('stdout', line);
    await p.close();
    await nc.drain();
    await publishStatus(h.nc, live, 'error');
    expect((await fast.closed).code).toBe(1000);
    expect(fast.messages.filter((m) => m.type === 'log')).toHaveLength(30_000);
    slow.socket.resume();
    expect((await slow.closed).code).toBe(4008);
    expect(slow.messages.at(-1)).toMatchObject({ type: 'error', code: 'slow_consumer' });
  });
});

describe('migrateClickHouse', () => {
  it('is idempotent and follows a changed retention', async () => {
    expect(await migrateClickHouse(h.clickhouse, { logRetentionDays: 30 })).toEqual({ applied: [] });
    await migrateClickHouse(h.clickhouse, { logRetentionDays: 7 });
    const [row] = await (
      await h.clickhouse.query({
        query: `SELECT engine_full FROM system.tables WHERE name = 'build_logs' AND database = currentDatabase()`,
        format: 'JSONEachRow',
      })
    ).json<{ engine_full: string }>();
    expect(row!.engine_full).toMatch(/toIntervalDay\(7\)/);
    expect(row!.engine_full).toMatch(/ReplacingMergeTree/);
    await migrateClickHouse(h.clickhouse, { logRetentionDays: 30 });
  });
});

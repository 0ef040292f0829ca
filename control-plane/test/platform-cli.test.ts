import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@deploysphere/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alive,
  descendants,
  runStart,
  stillAliveAfterGrace,
  waitForOutput,
  type CliRun,
} from './cli-process.js';

// These tests run `npm start`'s entry point as a real process with real embedded services, and
// hold it to the foundation issue: ready within the limit, a clean stop, a restart that keeps
// its data, side-by-side stacks, and one readable paragraph for the common start-up mistakes.

let dir: string;
const runs: CliRun[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-cli-'));
});
afterAll(async () => {
  for (const run of runs) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

async function start(name: string, extra: Record<string, string> = {}) {
  const port = await freePort();
  const edgePort = await freePort();
  const run = runStart({
    DATA_DIR: join(dir, name),
    PORT: String(port),
    EDGE_PORT: String(edgePort),
    ...extra,
  });
  runs.push(run);
  const [, token] = await waitForOutput(run, /API token\s+(\S+)/);
  await waitForOutput(run, /Ready\. Press Ctrl-C to stop\./);
  return { run, token: token!, base: `http://127.0.0.1:${port}`, edgePort };
}

async function stop(run: CliRun): Promise<void> {
  const below = descendants(run.child.pid!);
  expect(below.length).toBeGreaterThan(0); // postgres, nats-server and workerd at least
  run.child.kill('SIGTERM');
  const code = await run.exited;
  expect(code).toBe(0);
  expect(await stillAliveAfterGrace(below)).toEqual([]);
}

describe('npm start', () => {
  it('comes up ready with every check ok, stops cleanly, and restarts on the same data', async () => {
    const first = await start('main');
    expect(first.run.stdout()).toMatch(/✓ postgres\s+embedded/);
    expect(first.run.stdout()).toMatch(/First sign-in: open the Dashboard, sign in with the API token/);
    expect(first.run.stdout()).toMatch(new RegExp(`Sites\\s+http://<slug>\\.localhost:${first.edgePort}`));
    const [, prometheusUrl] = first.run.stdout().match(/Prometheus {2}(http:\/\/127\.0\.0\.1:\d+)\n/) ?? [];
    expect(prometheusUrl, first.run.stdout()).toBeDefined();
    expect((await fetch(`${prometheusUrl}/-/ready`)).status).toBe(200);

    const ready = await fetch(`${first.base}/readyz`);
    const report = (await ready.json()) as { ok: boolean; checks: Record<string, { ok: boolean }> };
    expect(ready.status).toBe(200);
    expect(Object.keys(report.checks).sort()).toEqual([
      'clickhouse',
      'database',
      'edge',
      'nats',
      'storage:ap-southeast-1',
      'storage:eu-west-1',
      'storage:us-east-1',
    ]);
    expect(Object.values(report.checks).every((c) => c.ok)).toBe(true);

    expect((await fetch(`${first.base}/api/v1/regions`)).status).toBe(401);
    const regions = await fetch(`${first.base}/api/v1/regions`, {
      headers: { authorization: `Bearer ${first.token}` },
    });
    expect(regions.status).toBe(200);
    expect(((await regions.json()) as { id: string }[]).map((r) => r.id)).toEqual([
      'us-east-1',
      'eu-west-1',
      'ap-southeast-1',
    ]);
    const page = await fetch(`${first.base}/`, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('<div id="root"></div>');
    expect(await (await fetch(`${first.base}/metrics`)).text()).toContain(
      'control_plane_http_request_duration_seconds',
    );

    await stop(first.run);

    const second = await start('main');
    expect(second.token).toBe(first.token);
    expect(second.run.stdout()).toMatch(/✓ migrations\s+up to date/);
    expect((await fetch(`${second.base}/readyz`)).status).toBe(200);
    await stop(second.run);
  });

  it('runs two stacks side by side with their own DATA_DIR, PORT and EDGE_PORT', async () => {
    const [a, b] = await Promise.all([start('side-a'), start('side-b')]);
    expect(a.token).not.toBe(b.token);
    for (const s of [a, b]) expect((await fetch(`${s.base}/readyz`)).status).toBe(200);
    await Promise.all([stop(a.run), stop(b.run)]);
  });
});

describe('npm start under a terminal', () => {
  it('Ctrl-C (SIGINT to the whole process group, echoed by npm) stops everything cleanly', async () => {
    const port = await freePort();
    const run = runStart(
      { DATA_DIR: join(dir, 'terminal'), PORT: String(port), EDGE_PORT: String(await freePort()) },
      { viaNpm: true },
    );
    runs.push(run);
    await waitForOutput(run, /Ready\. Press Ctrl-C to stop\./);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    const below = descendants(run.child.pid!);
    process.kill(-run.child.pid!, 'SIGINT');
    await run.exited;
    expect(await stillAliveAfterGrace(below)).toEqual([]);
    expect(run.stdout()).toContain('stopped.');
    expect(run.stderr()).not.toContain('did not stop in time');
  });
});

describe('npm start refuses bad settings in one paragraph that names the setting', () => {
  it('a malformed DATABASE_URL exits 2 before starting anything', async () => {
    const run = runStart({ DATA_DIR: join(dir, 'bad-url'), DATABASE_URL: 'mysql://x' });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toMatch(
      /DATABASE_URL: expected a URL starting with postgres:\/\/ or postgresql:\/\//,
    );
    expect(run.stderr()).not.toMatch(/\n\s+at /);
  });

  it('an unreachable DATABASE_URL exits non-zero, names it, and leaves nothing running', async () => {
    const port = await freePort();
    const run = runStart({
      DATA_DIR: join(dir, 'unreachable'),
      PORT: String(await freePort()),
      EDGE_PORT: String(await freePort()),
      DATABASE_URL: `postgresql://nobody:secret@127.0.0.1:${port}/nothing`,
    });
    let seen: number[] = [];
    const watcher = setInterval(() => (seen = [...new Set([...seen, ...descendants(run.child.pid!)])]), 50);
    const code = await run.exited;
    clearInterval(watcher);
    expect(code).toBe(1);
    expect(run.stderr()).toMatch(
      /DATABASE_URL=postgresql:\/\/nobody:\*\*\*@127\.0\.0\.1:\d+\/nothing could not be used/,
    );
    expect(run.stderr()).not.toContain('secret');
    expect(run.stderr()).not.toMatch(/\n\s+at /);
    expect(alive(seen)).toEqual([]);
  });

  it('a PORT already in use exits non-zero and names PORT', async () => {
    const blocker: Server = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const run = runStart({
        DATA_DIR: join(dir, 'busy'),
        PORT: String(port),
        EDGE_PORT: String(await freePort()),
      });
      expect(await run.exited).toBe(1);
      expect(run.stderr()).toContain(`PORT=${port} is already in use on 127.0.0.1`);
      expect(run.stderr()).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});

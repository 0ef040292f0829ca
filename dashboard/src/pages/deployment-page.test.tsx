import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN } from '../test/fake-api.js';
import { FakeWebSocket } from '../test/fake-websocket.js';
import { deploymentId, deploymentView } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const ID = deploymentId(7);
const building = deploymentView({ id: ID, status: 'building', phase: 'build', finishedAt: null });
const ready = deploymentView({
  id: ID,
  status: 'ready',
  finishedAt: '2026-11-22T10:00:09.000Z',
  stats: {
    files: 3,
    bytes: 300,
    uploadedBytes: 300,
    phaseDurationsMs: { clone: 10, install: 20, build: 30 },
  },
});
const statusOf = () => document.querySelector('.page-actions .status')?.getAttribute('data-status');
const entry = (seq: number, message: string) => ({
  seq,
  ts: '2026-11-22T10:00:02.000Z',
  stream: 'stdout',
  message,
});
const log = (seq: number, message: string) => ({ type: 'log', ...entry(seq, message) });

describe('deployment page', () => {
  it("writes the socket's lines and status into the cache, and stops polling once finished", async () => {
    let view = building;
    const { callsTo } = fakeApi({ ...SIGNED_IN, [`GET /deployments/${ID}`]: () => ok(view) });
    renderApp(`/deployments/${ID}`);
    await waitFor(() => expect(statusOf()).toBe('building'));
    const socket = FakeWebSocket.latest();
    expect(socket.url).toMatch(new RegExp(`/api/v1/deployments/${ID}/logs/stream\\?after=0$`));

    act(() => {
      socket.open();
      socket.receive(log(1, 'compiling site'));
      socket.receive(log(2, 'step 1 of 6'));
    });
    await screen.findByText('step 1 of 6');
    expect(document.querySelector('.live-dot')).not.toBeNull();

    // The status arrives over the socket before any poll could have seen it.
    view = ready;
    act(() =>
      socket.receive({ type: 'status', status: 'ready', phase: null, error: null, at: ready.finishedAt }),
    );
    await waitFor(() => expect(statusOf()).toBe('ready'));
    act(() => socket.receive({ type: 'end', lastSeq: 2, status: 'ready' }));
    // The full view (with its finish time) is fetched once more, then polling stops.
    await waitFor(() => expect(screen.getByText('Took')).toBeTruthy());
    const polls = callsTo(`GET /deployments/${ID}`).length;
    await new Promise((r) => setTimeout(r, 1_300));
    expect(callsTo(`GET /deployments/${ID}`)).toHaveLength(polls);
    expect(screen.getByText('2 lines')).toBeTruthy();
  });

  it('reconnects with the last line it has, so nothing is doubled', async () => {
    fakeApi({ ...SIGNED_IN, [`GET /deployments/${ID}`]: () => ok(building) });
    renderApp(`/deployments/${ID}`);
    await waitFor(() => expect(statusOf()).toBe('building'));
    const first = FakeWebSocket.latest();
    act(() => {
      first.open();
      first.receive(log(1, 'one'));
      first.receive(log(2, 'two'));
      first.drop();
    });
    await waitFor(() => expect(FakeWebSocket.all).toHaveLength(2), { timeout: 2_000 });
    const second = FakeWebSocket.latest();
    expect(second.url).toMatch(/\?after=2$/);
    act(() => {
      second.open();
      second.receive(log(2, 'two'));
      second.receive(log(3, 'three'));
    });
    await screen.findByText('three');
    expect(screen.getByText('3 lines')).toBeTruthy();
  });

  it('polls the lines over REST when the socket cannot be opened', async () => {
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      [`GET /deployments/${ID}`]: () => ok(ready),
      [`GET /deployments/${ID}/logs`]: (call) =>
        ok({
          lines: call.search.get('after') === '0' ? [entry(1, 'from the REST route')] : [],
          nextAfter: 1,
        }),
    });
    renderApp(`/deployments/${ID}`);
    await waitFor(() => expect(statusOf()).toBe('ready'));
    act(() => FakeWebSocket.latest().drop());
    await waitFor(() => expect(FakeWebSocket.all).toHaveLength(2), { timeout: 2_000 });
    act(() => FakeWebSocket.latest().drop());
    await screen.findByText('from the REST route');
    expect(callsTo(`GET /deployments/${ID}/logs`)[0]!.search.get('after')).toBe('0');
  });
});

describe('deployment page: what the build detected and its cache', () => {
  const built = deploymentView({
    ...ready,
    preset: {
      id: 'astro',
      name: 'Astro',
      reason: 'astro: dependency astro, astro.config.mjs',
      packageManager: 'yarn-berry',
      installCommand: 'yarn install --immutable',
      buildCommand: '',
      installFrom: 'preset',
      buildFrom: 'project',
      outputDir: 'dist',
      nodeVersion: '20.19.0',
      nodeVersionRequested: '>=18',
    },
    cache: {
      restored: 'partial',
      key: '0123456789abcdef'.repeat(4),
      source: 'branch',
      restoredBytes: 5 * 1024 * 1024,
      saveKey: 'f'.repeat(64),
    },
    cloneBytes: 2048,
  });

  it('shows the preset and why, the package manager, each command and its origin, the cache result and the clone size', async () => {
    fakeApi({ ...SIGNED_IN, [`GET /deployments/${ID}`]: () => ok(built) });
    renderApp(`/deployments/${ID}`);
    const section = await screen.findByRole('region', { name: 'Build' });
    const fact = (name: string) =>
      [...section.querySelectorAll('dt')].find((dt) => dt.textContent === name)?.nextElementSibling
        ?.textContent;
    expect(fact('Framework')).toBe('Astroastro: dependency astro, astro.config.mjs');
    expect(fact('Package manager')).toBe('Yarn berry');
    expect(fact('Install command')).toBe('yarn install --immutable (detected)');
    expect(fact('Build command')).toBe('skipped (from the project settings)');
    expect(fact('Output directory')).toBe('dist');
    expect(fact('Node')).toBe('20.19.0 (asked for >=18)');
    expect(fact('Build cache')).toBe(
      "Restored partial: package manager and framework caches, from the branch's newest cache, 5.0 MB compressedkey 0123456789ab",
    );
    expect(fact('Clone')).toBe('2.0 KB');
  });

  it.each([
    [
      { restored: 'exact', key: 'a'.repeat(64), source: 'lockfile', restoredBytes: 1024 },
      /^Restored exact: node_modules and caches, from this lockfile, 1\.0 KB compressed/,
    ],
    [{ restored: 'none', skipped: 'corrupt' }, /^Not restored: the cache was unreadable and was ignored$/],
    [{ restored: 'none', skipped: 'without-cache' }, /^Not restored: deployed without cache$/],
    [{ restored: 'none', skipped: 'disabled' }, /^Not restored: the build cache is off for this project$/],
  ] as const)('says what the cache did: %o', async (cache, text) => {
    fakeApi({ ...SIGNED_IN, [`GET /deployments/${ID}`]: () => ok({ ...built, cache }) });
    renderApp(`/deployments/${ID}`);
    const section = await screen.findByRole('region', { name: 'Build' });
    const dd = [...section.querySelectorAll('dt')].find(
      (dt) => dt.textContent === 'Build cache',
    )!.nextElementSibling!;
    expect(dd.textContent).toMatch(text);
  });

  it('says where the build ran: the ECS task, its region and a restarted attempt', async () => {
    const taskArn = 'arn:aws:ecs:ap-southeast-1:000000000000:task/deploysphere-builds/0123456789abcdef';
    fakeApi({
      ...SIGNED_IN,
      [`GET /deployments/${ID}`]: () =>
        ok({ ...ready, runner: { kind: 'ecs', region: 'ap-southeast-1', taskArn, attempt: 2 } }),
    });
    renderApp(`/deployments/${ID}`);
    const section = await screen.findByRole('region', { name: 'Build' });
    const dd = [...section.querySelectorAll('dt')].find(
      (dt) => dt.textContent === 'Ran on',
    )!.nextElementSibling!;
    expect(dd.textContent).toBe('ECS task in ap-southeast-1 (attempt 2)0123456789abcdef');
    expect(dd.querySelector('code')!.getAttribute('title')).toBe(taskArn);
  });

  it('shows no build section for a deployment that reported nothing yet', async () => {
    fakeApi({ ...SIGNED_IN, [`GET /deployments/${ID}`]: () => ok(ready) });
    renderApp(`/deployments/${ID}`);
    await waitFor(() => expect(statusOf()).toBe('ready'));
    expect(screen.queryByRole('region', { name: 'Build' })).toBeNull();
  });

  it('"Redeploy without cache" starts a deployment with withoutCache and goes to it', async () => {
    const NEXT = deploymentId(8);
    const next = deploymentView({ id: NEXT, status: 'queued', finishedAt: null, withoutCache: true });
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      [`GET /deployments/${ID}`]: () => ok(built),
      [`GET /deployments/${NEXT}`]: () => ok(next),
      'POST /projects/web/deployments': () => ({ status: 202, body: next }),
    });
    renderApp(`/deployments/${ID}`);
    fireEvent.click(await screen.findByRole('button', { name: 'Redeploy without cache' }));
    await waitFor(() => expect(location.pathname).toBe(`/deployments/${NEXT}`));
    expect(callsTo('POST /projects/web/deployments')[0]!.body).toEqual({ withoutCache: true });
    expect(await screen.findByText('Without cache')).toBeTruthy();
    // Not offered while the new one runs.
    expect(screen.queryByRole('button', { name: 'Redeploy without cache' })).toBeNull();
  });
});

import { act, cleanup, screen, waitFor } from '@testing-library/react';
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

import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN } from '../test/fake-api.js';
import { projectView } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const empty = (window: string) => ({
  window,
  stepSeconds: 300,
  from: '2026-11-22T04:00:00.000Z',
  to: '2026-11-22T10:00:00.000Z',
  regions: [],
  points: [],
});

function api() {
  return fakeApi({
    ...SIGNED_IN,
    'GET /projects/web': () => ok(projectView()),
    'GET /projects/web/traffic': (call) => ok(empty(call.search.get('window') ?? '6h')),
  });
}

const windows = (calls: ReturnType<typeof api>['calls']) =>
  calls.filter((c) => c.path === '/projects/web/traffic').map((c) => c.search.get('window'));

describe('traffic tab: the window is in the URL', () => {
  it('opens on the URL’s window and writes a new choice back to it', async () => {
    const { calls } = api();
    renderApp('/projects/web/traffic?window=24h');
    await screen.findByText('No requests in this window');
    const select = screen.getByLabelText<HTMLSelectElement>('Window');
    expect(select.value).toBe('24h');
    expect(windows(calls)).toEqual(['24h']);

    fireEvent.change(select, { target: { value: '1h' } });
    await waitFor(() => expect(location.search).toBe('?window=1h'));
    await waitFor(() => expect(windows(calls)).toEqual(['24h', '1h']));
    expect(screen.getByRole('link', { name: 'Traffic' }).getAttribute('aria-current')).toBe('page');
  });

  it('takes the default window when the URL has none or an unknown one', async () => {
    const { calls } = api();
    renderApp('/projects/web/traffic?window=forever');
    await screen.findByText('No requests in this window');
    expect(screen.getByLabelText<HTMLSelectElement>('Window').value).toBe('6h');
    expect(windows(calls)).toEqual(['6h']);
  });
});

import type { AuditEntry, MemberView } from '@deploysphere/contracts';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN, type ApiCall } from '../test/fake-api.js';
import { userMe } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

const ADA_ID = 'u'.padEnd(24, '1');
const BOB_ID = 'b'.padEnd(24, '2');
const MEMBERS: MemberView[] = [
  {
    userId: ADA_ID,
    email: 'ada@example.com',
    name: 'Ada',
    role: 'owner',
    joinedAt: '2026-12-01T10:00:00.000Z',
  },
  {
    userId: BOB_ID,
    email: 'bob@example.com',
    name: 'Bob',
    role: 'member',
    joinedAt: '2026-12-02T10:00:00.000Z',
  },
];

function entry(n: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: `e${String(n).padStart(23, '0')}`,
    at: `2026-12-02T10:00:${String(59 - n).padStart(2, '0')}.000Z`,
    action: 'member.invite',
    actor: { kind: 'user', userId: ADA_ID, label: 'ada@example.com', tokenId: null },
    target: `grace${n}@example.com`,
    ip: '203.0.113.7',
    details: { role: 'viewer' },
    ...overrides,
  };
}

const CURSOR = '2026-12-02T10:00:10.000Z~e00000000000000000000049';

beforeEach(() => localStorage.clear());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** Two pages: the first names a cursor, the second (asked for with it) is the last. */
function auditApi(more: Parameters<typeof fakeApi>[0] = {}) {
  return fakeApi({
    ...SIGNED_IN,
    'GET /me': () => ok(userMe()),
    'GET /teams/acme/members': () => ok(MEMBERS),
    'GET /teams/acme/audit': (call: ApiCall) => {
      if (call.search.get('before') === CURSOR)
        return ok({ entries: [entry(50, { target: 'the-oldest@example.com' })], nextBefore: null });
      if (call.search.get('action') === 'token.create')
        return ok({
          entries: [
            entry(1, {
              action: 'token.create',
              actor: {
                kind: 'token',
                userId: BOB_ID,
                label: 'bob@example.com',
                tokenId: 't'.padEnd(24, '0'),
              },
              target: 'ci',
              details: { scopes: ['read', 'deploy'] },
            }),
          ],
          nextBefore: null,
        });
      if (call.search.get('actor') === BOB_ID) return ok({ entries: [], nextBefore: null });
      return ok({
        entries: [
          entry(0, {
            action: 'env.update',
            actor: { kind: 'root', userId: null, label: 'admin token', tokenId: null },
            target: 'web',
            details: { set: ['API_URL', 'SECRET_KEY'] },
          }),
          entry(1),
        ],
        nextBefore: CURSOR,
      });
    },
    ...more,
  });
}

describe('audit log', () => {
  it('is linked from the team page for owners, and shows who did what, when and from where', async () => {
    const { callsTo } = auditApi();
    renderApp('/teams/acme');
    fireEvent.click(await screen.findByRole('link', { name: 'Audit log' }));
    await screen.findByRole('heading', { level: 1, name: 'Audit log' });
    expect(location.pathname).toBe('/teams/acme/audit');
    const table = await screen.findByRole('table', { name: 'Audit log of acme, newest first' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    const first = within(rows[0]!);
    expect(first.getByText('env.update')).toBeTruthy();
    expect(first.getByText('admin token')).toBeTruthy();
    expect(first.getByText('web')).toBeTruthy();
    expect(first.getByText('API_URL, SECRET_KEY')).toBeTruthy();
    expect(first.getByText('203.0.113.7')).toBeTruthy();
    expect(rows[0]!.querySelector('time')?.getAttribute('dateTime')).toBe('2026-12-02T10:00:59.000Z');
    expect(within(rows[1]!).getByText('member.invite')).toBeTruthy();
    expect(callsTo('GET /teams/acme/audit')[0]!.search.get('before')).toBeNull();
  });

  it("loads older entries with the previous page's nextBefore, and stops at the last page", async () => {
    const { callsTo } = auditApi();
    renderApp('/teams/acme/audit');
    fireEvent.click(await screen.findByRole('button', { name: 'Load older entries' }));
    await screen.findByText('the-oldest@example.com');
    const calls = callsTo('GET /teams/acme/audit');
    expect(calls).toHaveLength(2);
    expect(calls[1]!.search.get('before')).toBe(CURSOR);
    expect(calls[1]!.search.get('limit')).toBe('50');
    // The first page stays above the second, and there is nothing older.
    expect(screen.getByText('grace1@example.com')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Load older entries' })).toBeNull();
  });

  it('filters by action and by member, in the URL', async () => {
    const { callsTo } = auditApi();
    renderApp('/teams/acme/audit');
    await screen.findByText('env.update');
    const action = screen.getByRole('combobox', { name: 'Action' }) as HTMLSelectElement;
    expect([...action.options].map((o) => o.value)).toContain('protection.update');
    fireEvent.change(action, { target: { value: 'token.create' } });
    await screen.findByText('ci');
    expect(screen.getByText('with an API token')).toBeTruthy();
    expect(screen.getByText('scopes:').parentElement?.textContent).toBe('scopes: read, deploy');
    expect(new URLSearchParams(location.search).get('action')).toBe('token.create');
    expect(callsTo('GET /teams/acme/audit').at(-1)!.search.get('action')).toBe('token.create');

    fireEvent.change(action, { target: { value: '' } });
    const member = screen.getByRole('combobox', { name: 'Member' }) as HTMLSelectElement;
    await waitFor(() => expect(member.options).toHaveLength(3));
    fireEvent.change(member, { target: { value: BOB_ID } });
    await screen.findByText('No entries match');
    const last = callsTo('GET /teams/acme/audit').at(-1)!;
    expect(last.search.get('actor')).toBe(BOB_ID);
    expect(last.search.get('action')).toBeNull();
  });

  it("shows the API's refusal (a role changed since /me was fetched)", async () => {
    auditApi({
      'GET /teams/acme/audit': () => ({
        status: 404,
        body: { error: { code: 'not_found', message: 'Team acme not found', field: 'team' } },
      }),
    });
    renderApp('/teams/acme/audit');
    expect((await screen.findByRole('alert')).textContent).toContain('Team acme not found');
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('is for owners only: no link and no request for a viewer, and not found for a stranger', async () => {
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      'GET /me': () => ok(userMe()),
      'GET /teams/blue/members': () => ok(MEMBERS),
    });
    renderApp('/teams/blue');
    await screen.findByText('bob@example.com');
    expect(screen.queryByRole('link', { name: 'Audit log' })).toBeNull();
    cleanup();
    renderApp('/teams/blue/audit');
    await screen.findByText("Only the team's owners read its audit log.");
    cleanup();
    renderApp('/teams/other/audit');
    await screen.findByRole('heading', { level: 1, name: 'Page not found' });
    expect(callsTo('GET /teams/blue/audit')).toHaveLength(0);
    expect(callsTo('GET /teams/other/audit')).toHaveLength(0);
  });
});

import type { MemberView } from '@deploysphere/contracts';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN } from '../test/fake-api.js';
import { userMe } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

const ADA: MemberView = {
  userId: 'u'.padEnd(24, '1'),
  email: 'ada@example.com',
  name: 'Ada',
  role: 'owner',
  joinedAt: '2026-12-01T10:00:00.000Z',
};
const BOB: MemberView = {
  userId: 'b'.padEnd(24, '2'),
  email: 'bob@example.com',
  name: 'Bob',
  role: 'member',
  joinedAt: '2026-12-02T10:00:00.000Z',
};

beforeEach(() => localStorage.clear());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const errorOf = (field: HTMLElement) =>
  (field.getAttribute('aria-describedby') ?? '')
    .split(' ')
    .map((id) => document.getElementById(id))
    .find((el) => el?.className === 'field-error')?.textContent;

describe('team page', () => {
  it("lets an owner change a member's role and remove them after confirming", async () => {
    let members = [ADA, BOB];
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      'GET /me': () => ok(userMe()),
      'GET /teams/acme/members': () => ok(members),
      [`PATCH /teams/acme/members/${BOB.userId}`]: (call) => {
        members = [ADA, { ...BOB, ...(call.body as { role: 'viewer' }) }];
        return ok(members[1]);
      },
      [`DELETE /teams/acme/members/${BOB.userId}`]: () => {
        members = [ADA];
        return { status: 204 };
      },
    });
    renderApp('/teams/acme');
    await screen.findByRole('heading', { level: 1, name: 'Acme' });
    const role = await screen.findByLabelText('Role of Bob');
    fireEvent.change(role, { target: { value: 'viewer' } });
    await waitFor(() =>
      expect((screen.getByLabelText('Role of Bob') as HTMLSelectElement).value).toBe('viewer'),
    );
    expect(callsTo(`PATCH /teams/acme/members/${BOB.userId}`)[0]!.body).toEqual({ role: 'viewer' });

    fireEvent.click(screen.getByRole('button', { name: 'Remove Bob' }));
    const dialog = await screen.findByRole('dialog', { name: 'Remove Bob?' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(screen.queryByText('bob@example.com')).toBeNull());
    expect(callsTo(`DELETE /teams/acme/members/${BOB.userId}`)).toHaveLength(1);
  });

  it("shows the API's refusal to demote the last owner", async () => {
    fakeApi({
      ...SIGNED_IN,
      'GET /me': () => ok(userMe()),
      'GET /teams/acme/members': () => ok([ADA]),
      [`PATCH /teams/acme/members/${ADA.userId}`]: () => ({
        status: 409,
        body: { error: { code: 'conflict', message: 'A team keeps at least one owner' } },
      }),
    });
    renderApp('/teams/acme');
    fireEvent.change(await screen.findByLabelText('Role of Ada'), { target: { value: 'member' } });
    expect((await screen.findByRole('alert')).textContent).toBe('A team keeps at least one owner');
    await waitFor(() =>
      expect((screen.getByLabelText('Role of Ada') as HTMLSelectElement).value).toBe('owner'),
    );
  });

  it('invites by email with a role and shows the link once, with a copy button', async () => {
    const writeText = vi.fn(async () => {});
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    const link = 'http://127.0.0.1:3000/invitation#inv1.s3cret';
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      'GET /me': () => ok(userMe()),
      'GET /teams/acme/members': () => ok([ADA]),
      'POST /teams/acme/invitations': () => ({
        status: 201,
        body: {
          id: 'inv1',
          email: 'grace@example.com',
          role: 'viewer',
          expiresAt: '2026-12-10T10:00:00.000Z',
          acceptToken: 'inv1.s3cret',
          acceptUrl: link,
        },
      }),
    });
    renderApp('/teams/acme');
    const email = await screen.findByLabelText('Email');
    fireEvent.change(email, { target: { value: 'not-an-email' } });
    fireEvent.click(screen.getByRole('button', { name: 'Invite' }));
    await waitFor(() => expect(errorOf(email)).toBe('expected an email address'));
    expect(callsTo('POST /teams/acme/invitations')).toHaveLength(0);

    fireEvent.change(email, { target: { value: 'Grace@Example.com' } });
    fireEvent.change(screen.getByLabelText('Role'), { target: { value: 'viewer' } });
    fireEvent.click(screen.getByRole('button', { name: 'Invite' }));
    await screen.findByText('Copy the link now: it is not shown again.');
    expect(callsTo('POST /teams/acme/invitations')[0]!.body).toEqual({
      email: 'grace@example.com',
      role: 'viewer',
    });
    expect(screen.getByLabelText('Invitation link').textContent).toBe(link);
    const copy = screen.getByRole('button', { name: 'Copy the invitation link' });
    fireEvent.click(copy);
    await waitFor(() => expect(copy.textContent).toBe('Copied'));
    expect(writeText).toHaveBeenCalledWith(link);
    fireEvent.click(screen.getByRole('button', { name: 'Done, hide it' }));
    expect(screen.queryByText(link)).toBeNull();
  });

  it('is read-only for a viewer: no role changes, removals or invitations', async () => {
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      'GET /me': () => ok(userMe()),
      'GET /teams/blue/members': () =>
        ok([
          { ...ADA, role: 'viewer' },
          { ...BOB, role: 'owner' },
        ]),
    });
    renderApp('/teams/blue');
    await screen.findByText('bob@example.com');
    expect(screen.queryByRole('combobox', { name: /Role of/ })).toBeNull();
    expect(screen.queryByRole('button', { name: /Remove/ })).toBeNull();
    expect(screen.queryByRole('form', { name: 'Invite someone' })).toBeNull();
    expect(screen.getByText(/only owners change members/)).toBeTruthy();
    expect(callsTo('GET /teams/blue/members')).toHaveLength(1);
  });

  it("answers a team that is not the caller's with the not-found page", async () => {
    const { callsTo } = fakeApi({ ...SIGNED_IN, 'GET /me': () => ok(userMe()) });
    renderApp('/teams/other');
    await screen.findByRole('heading', { level: 1, name: 'Page not found' });
    expect(callsTo('GET /teams/other/members')).toHaveLength(0);
  });
});

describe('team switcher', () => {
  it('lists the teams, remembers the choice in localStorage, and follows it on the team page', async () => {
    fakeApi({
      ...SIGNED_IN,
      'GET /me': () => ok(userMe()),
      'GET /teams/acme/members': () => ok([ADA]),
      'GET /teams/blue/members': () => ok([{ ...ADA, role: 'viewer' }]),
    });
    renderApp('/teams/acme');
    await screen.findByRole('heading', { level: 1, name: 'Acme' });
    const switcher = screen.getByRole('combobox', { name: 'Team' }) as HTMLSelectElement;
    expect([...switcher.options].map((o) => o.textContent)).toEqual(['Acme', 'Blue']);
    expect(switcher.value).toBe('acme');
    fireEvent.change(switcher, { target: { value: 'blue' } });
    await screen.findByRole('heading', { level: 1, name: 'Blue' });
    expect(location.pathname).toBe('/teams/blue');
    expect(localStorage.getItem('deploysphere.team')).toBe('blue');
    expect(screen.getByRole('link', { name: 'Team' }).getAttribute('href')).toBe('/teams/blue');
  });

  it('starts from the remembered team, and falls back to the first when it is gone', async () => {
    localStorage.setItem('deploysphere.team', 'blue');
    fakeApi({ ...SIGNED_IN, 'GET /me': () => ok(userMe()), 'GET /projects': () => ok([]) });
    renderApp('/');
    await waitFor(() =>
      expect((screen.getByRole('combobox', { name: 'Team' }) as HTMLSelectElement).value).toBe('blue'),
    );
    cleanup();
    localStorage.setItem('deploysphere.team', 'gone');
    renderApp('/');
    await waitFor(() =>
      expect((screen.getByRole('combobox', { name: 'Team' }) as HTMLSelectElement).value).toBe('acme'),
    );
  });
});

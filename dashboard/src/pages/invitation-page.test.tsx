import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN } from '../test/fake-api.js';
import { userMe } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const errorOf = (field: HTMLElement) =>
  (field.getAttribute('aria-describedby') ?? '')
    .split(' ')
    .map((id) => document.getElementById(id))
    .find((el) => el?.className === 'field-error')?.textContent;

function fill(name: string, password: string, confirm: string) {
  fireEvent.change(screen.getByLabelText('Your name'), { target: { value: name } });
  fireEvent.change(screen.getByLabelText('Password'), { target: { value: password } });
  fireEvent.change(screen.getByLabelText('Confirm password'), { target: { value: confirm } });
  fireEvent.click(screen.getByRole('button', { name: 'Join and sign in' }));
}

describe('accepting an invitation', () => {
  it('reads the token from the fragment, takes it out of the address bar, and signs in', async () => {
    let signedIn = false;
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      'GET /session': () => ok({ signedIn, expiresAt: signedIn ? '2026-12-04T00:00:00.000Z' : null }),
      'GET /me': () => ok(userMe()),
      'GET /projects': () => ok([]),
      'POST /invitations/accept': () => {
        signedIn = true;
        return ok({ signedIn: true, expiresAt: '2026-12-04T00:00:00.000Z' });
      },
    });
    renderApp('/invitation#inv_abc.secret');
    await screen.findByRole('heading', { level: 1, name: 'Join DeploySphere' });
    await waitFor(() => expect(location.hash).toBe(''));
    fill('Ada Lovelace', 'a long enough password', 'a long enough password');
    await screen.findByRole('heading', { level: 1, name: 'Projects' });
    expect(location.pathname).toBe('/');
    expect(callsTo('POST /invitations/accept')[0]!.body).toEqual({
      token: 'inv_abc.secret',
      name: 'Ada Lovelace',
      password: 'a long enough password',
    });
  });

  it('names the field in each validation message and sends nothing', async () => {
    const { callsTo } = fakeApi({ 'GET /session': () => ok({ signedIn: false, expiresAt: null }) });
    renderApp('/invitation#tok');
    await screen.findByLabelText('Your name');
    fill('', 'short', 'other');
    await waitFor(() => expect(errorOf(screen.getByLabelText('Your name'))).toBe('must not be empty'));
    expect(errorOf(screen.getByLabelText('Password'))).toBe('must be at least 12 characters');
    expect(document.activeElement).toBe(screen.getByLabelText('Your name'));
    fill('Ada', 'a long enough password', 'a different password');
    await waitFor(() => expect(errorOf(screen.getByLabelText('Password'))).toBeUndefined());
    expect(errorOf(screen.getByLabelText('Confirm password'))).toBe('must match the password');
    expect(callsTo('POST /invitations/accept')).toHaveLength(0);
  });

  it("shows the API's refusal of a spent or expired invitation", async () => {
    fakeApi({
      'GET /session': () => ok({ signedIn: false, expiresAt: null }),
      'POST /invitations/accept': () => ({
        status: 400,
        body: {
          error: { code: 'invalid_invitation', message: 'That invitation is not valid or has expired' },
        },
      }),
    });
    renderApp('/invitation#tok');
    await screen.findByLabelText('Your name');
    fill('Ada', 'a long enough password', 'a long enough password');
    expect((await screen.findByRole('alert')).textContent).toBe(
      'That invitation is not valid or has expired',
    );
  });

  it('says so when the link lost its fragment', async () => {
    fakeApi({ 'GET /session': () => ok({ signedIn: false, expiresAt: null }) });
    renderApp('/invitation');
    expect((await screen.findByRole('alert')).textContent).toContain('This invitation link is incomplete');
    expect(screen.queryByLabelText('Your name')).toBeNull();
  });
});

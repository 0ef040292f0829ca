import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN } from '../test/fake-api.js';
import { userMe } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const SIGNED_OUT = { 'GET /session': () => ok({ signedIn: false, expiresAt: null }) };

/** The error text tied to a field through aria-describedby. */
function errorOf(field: HTMLElement): string | undefined {
  const ids = field.getAttribute('aria-describedby')?.split(' ') ?? [];
  return (
    ids.map((id) => document.getElementById(id)).find((el) => el?.className === 'field-error')?.textContent ??
    undefined
  );
}

describe('sign in with email and password', () => {
  it('is the default, and names each field in its validation message', async () => {
    const { callsTo } = fakeApi(SIGNED_OUT);
    renderApp('/');
    const email = await screen.findByLabelText('Email');
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(errorOf(email)).toBe('expected an email address'));
    const password = screen.getByLabelText('Password');
    expect(errorOf(password)).toBe('must not be empty');
    expect(email.getAttribute('aria-invalid')).toBe('true');
    fireEvent.change(email, { target: { value: 'not an email' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(errorOf(email)).toBe('expected an email address'));
    expect(callsTo('POST /session/password')).toHaveLength(0);
  });

  it("shows the API's refusal of a wrong password under the password field", async () => {
    fakeApi({
      ...SIGNED_OUT,
      'POST /session/password': () => ({
        status: 401,
        body: {
          error: {
            code: 'unauthorized',
            message: 'That email and password do not match an account',
            field: 'password',
          },
        },
      }),
    });
    renderApp('/');
    fireEvent.change(await screen.findByLabelText('Email'), { target: { value: 'ada@example.com' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'wrong password' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() =>
      expect(errorOf(screen.getByLabelText('Password'))).toBe(
        'That email and password do not match an account',
      ),
    );
    // Still signed out: a 401 from sign-in is not "your session has ended".
    expect(screen.queryByText('Your session has ended. Sign in again.')).toBeNull();
  });

  it('says how long to wait after too many attempts', async () => {
    fakeApi({
      ...SIGNED_OUT,
      'POST /session/password': () => ({
        status: 429,
        body: { error: { code: 'rate_limited', message: 'Too many sign-in attempts; retry in 16 s' } },
      }),
    });
    renderApp('/');
    fireEvent.change(await screen.findByLabelText('Email'), { target: { value: 'ada@example.com' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'guess' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Too many sign-in attempts; retry in 16 s');
  });

  it('posts the lower-cased email and the password, then shows the projects', async () => {
    let signedIn = false;
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      'GET /session': () => ok({ signedIn, expiresAt: signedIn ? '2026-12-04T00:00:00.000Z' : null }),
      'GET /me': () => ok(userMe()),
      'GET /projects': () => ok([]),
      'POST /session/password': () => {
        signedIn = true;
        return ok({ signedIn: true, expiresAt: '2026-12-04T00:00:00.000Z' });
      },
    });
    renderApp('/');
    fireEvent.change(await screen.findByLabelText('Email'), { target: { value: ' Ada@Example.com ' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse battery' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await screen.findByRole('heading', { level: 1, name: 'Projects' });
    expect(callsTo('POST /session/password')[0]!.body).toEqual({
      email: 'ada@example.com',
      password: 'correct horse battery',
    });
  });

  it('offers each configured single sign-on provider, returning to the page it was opened at', async () => {
    fakeApi({
      ...SIGNED_OUT,
      'GET /auth/providers': () =>
        ok([
          { id: 'okta', name: 'Okta', startUrl: '/api/v1/auth/oidc/okta/start' },
          { id: 'google', name: 'Google', startUrl: '/api/v1/auth/oidc/google/start' },
          { id: 'evil', name: 'Evil', startUrl: 'javascript:alert(1)' },
        ]),
    });
    renderApp('/projects/web/traffic?window=24h');
    const okta = await screen.findByRole('link', { name: 'Sign in with Okta' });
    expect(okta.getAttribute('href')).toBe(
      `/api/v1/auth/oidc/okta/start?return=${encodeURIComponent('/projects/web/traffic?window=24h')}`,
    );
    expect(screen.getByRole('link', { name: 'Sign in with Google' })).toBeTruthy();
    expect(screen.queryByRole('link', { name: 'Sign in with Evil' })).toBeNull();
    expect(screen.getByLabelText('Email')).toBeTruthy();
  });

  it('shows no single sign-on when none is configured', async () => {
    const { callsTo } = fakeApi({ ...SIGNED_OUT, 'GET /auth/providers': () => ok([]) });
    renderApp('/');
    await screen.findByLabelText('Email');
    await waitFor(() => expect(callsTo('GET /auth/providers')).toHaveLength(1));
    expect(screen.queryByRole('list', { name: 'Single sign-on' })).toBeNull();
  });

  it('switches to the admin token and back', async () => {
    fakeApi(SIGNED_OUT);
    renderApp('/');
    fireEvent.click(await screen.findByRole('button', { name: 'Sign in with the admin token' }));
    expect(screen.getByLabelText('API token')).toBeTruthy();
    expect(screen.queryByLabelText('Email')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Sign in with email and password' }));
    expect(screen.getByLabelText('Email')).toBeTruthy();
  });
});

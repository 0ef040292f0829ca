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

const errorOf = (field: HTMLElement) =>
  (field.getAttribute('aria-describedby') ?? '')
    .split(' ')
    .map((id) => document.getElementById(id))
    .find((el) => el?.className === 'field-error')?.textContent;

describe('forgot password', () => {
  it('checks the email, then says the same whether or not an account exists', async () => {
    const { callsTo } = fakeApi({
      ...SIGNED_OUT,
      'POST /password-reset': () => ({ status: 202, body: { accepted: true } }),
    });
    renderApp('/');
    fireEvent.click(await screen.findByRole('button', { name: 'Forgot password?' }));
    const email = await screen.findByLabelText('Email');
    fireEvent.change(email, { target: { value: 'ada at example' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send the link' }));
    await waitFor(() => expect(errorOf(email)).toBe('expected an email address'));
    expect(callsTo('POST /password-reset')).toHaveLength(0);

    fireEvent.change(email, { target: { value: ' Ada@Example.com ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send the link' }));
    const said = await screen.findByRole('status');
    expect(said.textContent).toContain('If an account exists for ada@example.com, a link');
    expect(screen.getByText(/the link is in the control plane's log/)).toBeTruthy();
    expect(callsTo('POST /password-reset')[0]!.body).toEqual({ email: 'ada@example.com' });

    // Back to the sign-in form.
    fireEvent.click(screen.getByRole('button', { name: 'Sign in with email and password' }));
    await screen.findByLabelText('Password');
  });

  it("shows the API's refusal (too many requests) above the button", async () => {
    fakeApi({
      ...SIGNED_OUT,
      'POST /password-reset': () => ({
        status: 429,
        body: { error: { code: 'too_many_requests', message: 'Too many sign-in attempts; retry in 16 s' } },
      }),
    });
    renderApp('/');
    fireEvent.click(await screen.findByRole('button', { name: 'Forgot password?' }));
    fireEvent.change(await screen.findByLabelText('Email'), { target: { value: 'ada@example.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send the link' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Too many sign-in attempts; retry in 16 s');
    expect(screen.queryByText(/If an account exists/)).toBeNull();
  });
});

describe('resetting the password from the link', () => {
  it('reads the token from the fragment, takes it out of the address bar, and signs in', async () => {
    let signedIn = false;
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      'GET /session': () => ok({ signedIn, expiresAt: signedIn ? '2026-12-04T00:00:00.000Z' : null }),
      'GET /me': () => ok(userMe()),
      'GET /projects': () => ok([]),
      'POST /password-reset/confirm': () => {
        signedIn = true;
        return ok({ signedIn: true, expiresAt: '2026-12-04T00:00:00.000Z' });
      },
    });
    renderApp('/reset-password#rst_abc.s3cret');
    await screen.findByRole('heading', { level: 1, name: 'Choose a new password' });
    await waitFor(() => expect(location.hash).toBe(''));
    const password = screen.getByLabelText('New password');
    const confirm = screen.getByLabelText('Confirm the new password');
    const submit = screen.getByRole('button', { name: 'Set the password and sign in' });

    fireEvent.change(password, { target: { value: 'short' } });
    fireEvent.click(submit);
    await waitFor(() => expect(errorOf(password)).toBe('must be at least 12 characters'));
    expect(document.activeElement).toBe(password);
    fireEvent.change(password, { target: { value: 'a long enough password' } });
    fireEvent.change(confirm, { target: { value: 'another long password' } });
    fireEvent.click(submit);
    await waitFor(() => expect(errorOf(confirm)).toBe('must match the password'));
    expect(callsTo('POST /password-reset/confirm')).toHaveLength(0);

    fireEvent.change(confirm, { target: { value: 'a long enough password' } });
    fireEvent.click(submit);
    await screen.findByRole('heading', { level: 1, name: 'Projects' });
    expect(location.pathname).toBe('/');
    expect(callsTo('POST /password-reset/confirm')[0]!.body).toEqual({
      token: 'rst_abc.s3cret',
      password: 'a long enough password',
    });
  });

  it('shows a spent or expired link, and a field refusal under its field', async () => {
    let answer: { status: number; body: unknown } = {
      status: 400,
      body: { error: { code: 'invalid_reset', message: 'That reset link is not valid or has expired' } },
    };
    fakeApi({ ...SIGNED_OUT, 'POST /password-reset/confirm': () => answer });
    renderApp('/reset-password#rst_old.secret');
    const password = await screen.findByLabelText('New password');
    fireEvent.change(password, { target: { value: 'a long enough password' } });
    fireEvent.change(screen.getByLabelText('Confirm the new password'), {
      target: { value: 'a long enough password' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Set the password and sign in' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'That reset link is not valid or has expired',
    );

    answer = {
      status: 400,
      body: {
        error: {
          code: 'bad_request',
          message: 'password: must be at most 256 characters',
          field: 'password',
        },
      },
    };
    fireEvent.click(screen.getByRole('button', { name: 'Set the password and sign in' }));
    await waitFor(() => expect(errorOf(password)).toBe('must be at most 256 characters'));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('says so when the link has no token', async () => {
    fakeApi(SIGNED_OUT);
    renderApp('/reset-password');
    expect((await screen.findByRole('alert')).textContent).toContain('This reset link is incomplete');
    expect(screen.queryByLabelText('New password')).toBeNull();
  });
});

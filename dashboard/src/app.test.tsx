import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './app.js';
import { fakeApi, ok, SIGNED_IN } from './test/fake-api.js';
import { renderApp } from './test/render-app.js';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

let signedIn = false;
beforeEach(() => {
  signedIn = false;
  history.replaceState(null, '', '/');
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/api/v1/session' && (!init?.method || init.method === 'GET')) {
        return json(200, { signedIn, expiresAt: signedIn ? '2026-11-22T22:00:00.000Z' : null });
      }
      if (url === '/api/v1/session' && init?.method === 'POST') {
        const { token } = JSON.parse(String(init.body)) as { token: string };
        if (token !== 'dsk_right') {
          return json(401, {
            error: { code: 'unauthorized', message: 'That API token is not valid', field: 'token' },
          });
        }
        signedIn = true;
        return json(200, { signedIn, expiresAt: '2026-11-22T22:00:00.000Z' });
      }
      if (url === '/api/v1/me') {
        return json(200, {
          kind: 'root',
          user: null,
          teams: [{ id: 't1', slug: 'default', name: 'Default', role: 'owner' }],
          scopes: ['read', 'deploy', 'admin'],
        });
      }
      if (url === '/api/v1/projects') return json(200, []);
      if (url === '/api/v1/regions') return json(200, []);
      return json(404, { error: { code: 'not_found', message: 'No route' } });
    }),
  );
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** The admin-token form is one switch away from the default email and password. */
async function switchToAdminToken() {
  fireEvent.click(await screen.findByRole('button', { name: 'Sign in with the admin token' }));
}

describe('sign in with the admin token', () => {
  it('asks for the API token in a labelled field and enables Sign in only once one is typed', async () => {
    render(<App />);
    await switchToAdminToken();
    const button = await screen.findByRole('button', { name: 'Sign in' });
    expect(button).toHaveProperty('disabled', true);
    fireEvent.change(screen.getByLabelText('API token'), { target: { value: 'dsk_token' } });
    expect(button).toHaveProperty('disabled', false);
  });

  it("shows the API's message for a wrong token", async () => {
    render(<App />);
    await switchToAdminToken();
    fireEvent.change(await screen.findByLabelText('API token'), { target: { value: 'dsk_wrong' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toBe('That API token is not valid');
  });

  it('lands on the empty projects list, which leads to New deployment', async () => {
    render(<App />);
    await switchToAdminToken();
    fireEvent.change(await screen.findByLabelText('API token'), { target: { value: 'dsk_right' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('No projects yet')).toBeTruthy();
    fireEvent.click(screen.getByRole('link', { name: 'Deploy your first project' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'New deployment' })).toBeTruthy();
    expect(location.pathname).toBe('/new');
  });
});

describe('session and routes', () => {
  it('shows the sign-in page with a notice when an API call answers 401', async () => {
    fakeApi({
      ...SIGNED_IN,
      'GET /projects': () => ({ status: 401, body: { error: { code: 'unauthorized', message: 'Sign in' } } }),
    });
    renderApp('/');
    const notice = await screen.findByText('Your session has ended. Sign in again.');
    expect(notice.getAttribute('role')).toBe('status');
    expect(screen.getByLabelText('Email')).toBeTruthy();
  });

  it('signs out to the sign-in page at /', async () => {
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      'GET /projects': () => ok([]),
      'DELETE /session': () => ({ status: 204 }),
    });
    renderApp('/new');
    await screen.findByRole('heading', { level: 1, name: 'New deployment' });
    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    await screen.findByLabelText('Email');
    await waitFor(() => expect(location.pathname).toBe('/'));
    expect(callsTo('DELETE /session')).toHaveLength(1);
  });

  it("moves focus to the new page's heading after a navigation, as a page load would", async () => {
    fakeApi({ ...SIGNED_IN, 'GET /projects': () => ok([]) });
    renderApp('/');
    fireEvent.click(await screen.findByRole('link', { name: 'Deploy your first project' }));
    const heading = await screen.findByRole('heading', { level: 1, name: 'New deployment' });
    await waitFor(() => expect(document.activeElement).toBe(heading));
    expect(screen.getByRole('link', { name: 'Projects' }).getAttribute('aria-current')).toBeNull();
  });

  it('answers an unknown path with the not-found page, inside the app', async () => {
    fakeApi(SIGNED_IN);
    renderApp('/projects/web/nothing-here');
    await screen.findByRole('heading', { level: 1, name: 'Page not found' });
    expect(screen.getByRole('button', { name: 'Sign out' })).toBeTruthy();
  });

  it('sends /projects to the projects list', async () => {
    fakeApi({ ...SIGNED_IN, 'GET /projects': () => ok([]) });
    renderApp('/projects');
    await screen.findByText('No projects yet');
    expect(location.pathname).toBe('/');
  });
});

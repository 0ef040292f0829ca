import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN } from '../test/fake-api.js';
import { deploymentView, projectView, userMe } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const VIEWER = userMe({ teams: [{ id: 't2', slug: 'blue', name: 'Blue', role: 'viewer' }] });
const MEMBER = userMe({ teams: [{ id: 't2', slug: 'blue', name: 'Blue', role: 'member' }] });
const older = deploymentView({ id: 'a'.padEnd(24, '1'), status: 'ready', isProduction: false });

function api(me: typeof VIEWER) {
  return fakeApi({
    ...SIGNED_IN,
    'GET /me': () => ok(me),
    'GET /projects': () => ok([projectView()]),
    'GET /projects/web': () => ok(projectView()),
    'GET /projects/web/deployments': () => ok([deploymentView({ isProduction: true }), older]),
  });
}

describe('role-aware actions', () => {
  it('shows a viewer no deploy, redeploy, promote or settings', async () => {
    api(VIEWER);
    renderApp('/projects/web');
    await screen.findByText(older.id.slice(0, 9));
    expect(screen.queryByRole('button', { name: 'Redeploy' })).toBeNull();
    expect(screen.queryByRole('button', { name: /^Promote/ })).toBeNull();
    expect(screen.queryByRole('link', { name: 'Settings' })).toBeNull();
    expect(screen.queryByRole('link', { name: 'New deployment' })).toBeNull();
  });

  it('shows a member all of them', async () => {
    api(MEMBER);
    renderApp('/projects/web');
    await screen.findByRole('button', { name: /^Promote/ });
    expect(screen.getByRole('button', { name: 'Redeploy' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Settings' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'New deployment' })).toBeTruthy();
  });

  it('gives a viewer a note instead of the deploy form and the settings', async () => {
    api(VIEWER);
    renderApp('/new');
    await screen.findByText(/members and owners deploy/);
    expect(screen.queryByLabelText('Repo URL')).toBeNull();
    cleanup();
    renderApp('/projects/web/settings');
    await screen.findByText(/settings can be changed by members and owners/);
    expect(screen.queryByRole('button', { name: /Save/ })).toBeNull();
  });
});

import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
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

describe('new deployment: the team of a new project', () => {
  const routes = {
    ...SIGNED_IN,
    'GET /regions': () => ok([{ id: 'eu-west-1', name: 'Ireland', latitude: 53.35, longitude: -6.26 }]),
    'GET /projects': () => ok([]),
    'POST /deployments': () => ok(deploymentView({ status: 'queued', finishedAt: null })),
  };

  it("names the switcher's team, never one where the caller is a viewer", async () => {
    localStorage.setItem('deploysphere.team', 'blue');
    const me = userMe({
      teams: [
        { id: 't1', slug: 'acme', name: 'Acme', role: 'member' },
        { id: 't2', slug: 'blue', name: 'Blue', role: 'viewer' },
        { id: 't3', slug: 'cyan', name: 'Cyan', role: 'owner' },
      ],
    });
    const { callsTo } = fakeApi({ ...routes, 'GET /me': () => ok(me) });
    renderApp('/new');
    const team = await screen.findByLabelText<HTMLSelectElement>('Create in team');
    // Blue is remembered, but Ada only views it: the first team she deploys in is preselected.
    expect(team.value).toBe('acme');
    expect(within(team).getByRole<HTMLOptionElement>('option', { name: /Blue/ }).disabled).toBe(true);
    fireEvent.change(team, { target: { value: 'cyan' } });
    fireEvent.change(screen.getByLabelText('Repo URL'), {
      target: { value: 'https://github.com/a/site.git' },
    });
    await screen.findByText('site is available', { exact: false });
    fireEvent.click(screen.getByRole('checkbox', { name: /eu-west-1/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    await waitFor(() => expect(callsTo('POST /deployments')).toHaveLength(1));
    expect(callsTo('POST /deployments')[0]!.body).toMatchObject({ slug: 'site', team: 'cyan' });
    localStorage.clear();
  });

  it('names no team when the caller has one', async () => {
    const { callsTo } = fakeApi(routes);
    renderApp('/new');
    fireEvent.change(await screen.findByLabelText('Repo URL'), {
      target: { value: 'https://github.com/a/site.git' },
    });
    await screen.findByText('site is available', { exact: false });
    expect(screen.queryByLabelText('Create in team')).toBeNull();
    fireEvent.click(screen.getByRole('checkbox', { name: /eu-west-1/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    await waitFor(() => expect(callsTo('POST /deployments')).toHaveLength(1));
    expect(callsTo('POST /deployments')[0]!.body).not.toHaveProperty('team');
  });
});

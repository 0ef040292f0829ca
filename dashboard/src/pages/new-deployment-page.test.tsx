import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN } from '../test/fake-api.js';
import { deploymentId, deploymentView, projectView, REGIONS } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const api = (routes: Parameters<typeof fakeApi>[0] = {}) =>
  fakeApi({
    ...SIGNED_IN,
    'GET /regions': () => ok(REGIONS),
    'GET /projects': () => ok([]),
    ...routes,
  });

const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value } });

describe('new deployment: the site URL hint', () => {
  it("uses the platform's root domain and port, not localhost", async () => {
    api({
      'GET /sites': () =>
        ok({ rootDomain: 'apps.example.com', urlPattern: 'https://<slug>.apps.example.com' }),
    });
    renderApp('/new');
    await screen.findByText(
      'Your site will be at https://<slug>.apps.example.com. Lowercase letters, digits and hyphens.',
    );
    type('Project slug', 'shop');
    await screen.findByText('✓ shop is available: https://shop.apps.example.com');
    expect(document.body.textContent).not.toContain('localhost');
  });
});

describe('new deployment: the form', () => {
  it("follows the repository's name for the slug and posts the contract's body", async () => {
    const { callsTo } = api({
      'POST /deployments': () => ok(deploymentView({ status: 'queued', finishedAt: null })),
      [`GET /deployments/${deploymentId(1)}`]: () => ok(deploymentView({ status: 'queued' })),
    });
    renderApp('/new');
    await screen.findByRole('checkbox', { name: /eu-west-1/ });
    type('Repo URL', 'https://github.com/acme/My_Site.git');
    expect(screen.getByLabelText<HTMLInputElement>('Project slug').value).toBe('my-site');
    fireEvent.click(screen.getByRole('checkbox', { name: /eu-west-1/ }));
    fireEvent.click(screen.getByRole('checkbox', { name: /us-east-1/ }));
    await screen.findByText('my-site is available', { exact: false });
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));

    await waitFor(() => expect(location.pathname).toBe(`/deployments/${deploymentId(1)}`));
    // The commands were left empty: not sent, so the build detects them.
    expect(callsTo('POST /deployments')[0]!.body).toEqual({
      repoUrl: 'https://github.com/acme/My_Site.git',
      slug: 'my-site',
      region: ['eu-west-1', 'us-east-1'],
    });
  });

  it('shows every error on a failed submit and takes focus to the first field in error', async () => {
    const { callsTo } = api();
    renderApp('/new');
    await screen.findByRole('checkbox', { name: /eu-west-1/ });
    type('Build command', 'x'.repeat(1025));
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    await waitFor(() => expect(document.activeElement?.id).toBe('repoUrl'));
    expect(screen.getByLabelText('Repo URL').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByLabelText('Build command').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('pick at least one region')).toBeTruthy();
    expect(callsTo('POST /deployments')).toHaveLength(0);
  });

  it("puts the server's message under the field it names", async () => {
    api({
      'POST /deployments': () => ({
        status: 400,
        body: { error: { code: 'invalid', message: 'local repositories are not allowed', field: 'repoUrl' } },
      }),
    });
    renderApp('/new');
    await screen.findByRole('checkbox', { name: /eu-west-1/ });
    type('Repo URL', 'file:///srv/repo');
    type('Project slug', 'repo');
    fireEvent.click(screen.getByRole('checkbox', { name: /eu-west-1/ }));
    await screen.findByText('repo is available', { exact: false });
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    const message = await screen.findByText('local repositories are not allowed', {
      selector: '.field-error',
    });
    expect(message.id).toBe('repoUrl-error');
  });

  it('refuses a slug that another repository already uses', async () => {
    const { callsTo } = api({
      'GET /projects': (call) => ok(call.search.get('slug') === 'web' ? [projectView()] : []),
    });
    renderApp('/new');
    await screen.findByRole('checkbox', { name: /eu-west-1/ });
    type('Repo URL', 'https://github.com/other/web.git');
    fireEvent.click(screen.getByRole('checkbox', { name: /eu-west-1/ }));
    await screen.findByText('web belongs to another repository (https://github.com/acme/web.git)');
    fireEvent.click(screen.getByRole('button', { name: 'Deploy' }));
    await waitFor(() => expect(document.activeElement?.id).toBe('slug'));
    expect(callsTo('POST /deployments')).toHaveLength(0);
  });
});

import type { GitProvider, WebhookDeliveryView, WebhookView } from '@deploysphere/contracts';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN } from '../test/fake-api.js';
import { deploymentId, deploymentView, projectView, REGIONS } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const URL_OF = (p: GitProvider) => `http://127.0.0.1:3000/hooks/git/${p.padEnd(24, '0')}`;

/** A project's hooks as the API keeps them: POST connects or rotates, answering a fresh secret. */
function api(deliveries: WebhookDeliveryView[] = []) {
  const hooks = new Map<GitProvider, WebhookView>();
  let n = 0;
  return fakeApi({
    ...SIGNED_IN,
    'GET /regions': () => ok(REGIONS),
    'GET /projects/web': () => ok(projectView()),
    'GET /projects/web/webhooks': () => ok([...hooks.values()]),
    'POST /projects/web/webhook': (call) => {
      const { provider } = call.body as { provider: GitProvider };
      const at = '2026-12-02T21:00:00.000Z';
      hooks.set(provider, { provider, url: URL_OF(provider), createdAt: at, rotatedAt: at });
      n += 1;
      return {
        status: 201,
        body: { provider, url: URL_OF(provider), secret: `secret-${n}`.padEnd(64, 'f') },
      };
    },
    'GET /projects/web/deliveries': () => ok(deliveries),
  });
}

describe('the Git card', () => {
  it('connects a provider and shows its URL and secret once, with copy buttons', async () => {
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    const { callsTo } = api();
    renderApp('/projects/web/settings');
    await screen.findByText(/No webhook yet/);
    fireEvent.change(screen.getByLabelText('Provider'), { target: { value: 'gitlab' } });
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));

    await screen.findByText('Copy the secret now: it is not shown again.');
    expect(callsTo('POST /projects/web/webhook')[0]!.body).toEqual({ provider: 'gitlab' });
    const once = document.querySelector('.secret-once')!;
    expect(once.textContent).toContain(URL_OF('gitlab'));
    expect(once.textContent).toContain('secret-1');
    fireEvent.click(within(once as HTMLElement).getByRole('button', { name: 'Copy the secret' }));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith('secret-1'.padEnd(64, 'f')));

    // Hidden, it is gone for good: the list shows the hook without any secret.
    fireEvent.click(screen.getByRole('button', { name: 'Done, hide it' }));
    const list = await screen.findByRole('list', { name: 'Connected webhooks' });
    expect(list.textContent).toContain('GitLab');
    expect(document.body.textContent).not.toContain('secret-1');
    // Each provider connects once; GitLab is no longer offered.
    expect(within(screen.getByLabelText('Provider')).queryByText('GitLab')).toBeNull();
  });

  it('rotates a secret: a new one is shown once', async () => {
    api();
    renderApp('/projects/web/settings');
    await screen.findByText(/No webhook yet/);
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    await screen.findByText('Copy the secret now: it is not shown again.');
    fireEvent.click(screen.getByRole('button', { name: 'Done, hide it' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Rotate the GitHub secret' }));
    await waitFor(() => expect(document.querySelector('.secret-once')?.textContent).toContain('secret-2'));
  });

  it('lists recent deliveries with their outcomes', async () => {
    const base = {
      provider: 'github' as const,
      event: 'push',
      branch: 'feature/login',
      commitSha: 'a'.repeat(40),
      receivedAt: '2026-12-02T21:00:00.000Z',
    };
    api([
      {
        ...base,
        id: 'd2',
        deliveryId: 'guid-2',
        outcome: 'ignored',
        reason: "unknown repository: https://x.example/a.git is not this project's",
        deploymentId: null,
      },
      {
        ...base,
        id: 'd1',
        deliveryId: 'guid-1',
        outcome: 'deployed',
        reason: null,
        deploymentId: deploymentId(7),
      },
    ]);
    renderApp('/projects/web/settings');
    const table = await screen.findByRole('table', { name: /Webhook deliveries of web/ });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows[0]!.textContent).toContain('ignored');
    expect(rows[0]!.textContent).toContain('unknown repository');
    expect(rows[1]!.textContent).toContain('deployed');
    expect(within(rows[1]!).getByRole('link').textContent).toBe(deploymentId(7).slice(0, 9));
  });

  it('saves the production branch; empty means the default branch', async () => {
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      'GET /projects/web': () => ok(projectView({ gitRef: 'main' })),
      'PATCH /projects/web': () => ok(projectView({ gitRef: null })),
      'GET /projects/web/webhooks': () => ok([]),
      'GET /projects/web/deliveries': () => ok([]),
    });
    renderApp('/projects/web/settings');
    const field = await screen.findByLabelText('Production branch');
    fireEvent.change(field, { target: { value: 'bad..ref' } });
    await screen.findByText(/is not a valid git ref/);
    fireEvent.change(field, { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save branch' }));
    await screen.findByText('Production follows the default branch.');
    expect(callsTo('PATCH /projects/web')[0]!.body).toEqual({ gitRef: null });
  });
});

describe('the deployment history', () => {
  it('shows each deployment’s branch and commit message, and filters previews', async () => {
    const preview = deploymentView({
      id: deploymentId(2),
      target: 'preview',
      branch: 'feature/login',
      branchUrl: 'http://web-git-feature-login.localhost:8787',
      commitMessage: 'Add the login page\n\nWith a body.',
      commitAuthor: 'Ada Lovelace <ada@example.com>',
    });
    const production = deploymentView({ id: deploymentId(1), branch: 'main', commitMessage: 'Say two' });
    const { callsTo } = fakeApi({
      ...SIGNED_IN,
      'GET /projects/web': () => ok(projectView()),
      'GET /projects/web/deployments': (call) =>
        ok(call.search.get('target') === 'preview' ? [preview] : [preview, production]),
    });
    renderApp('/projects/web');
    const table = await screen.findByRole('table');
    await waitFor(() => expect(within(table).getAllByRole('row')).toHaveLength(3));
    const first = within(table).getAllByRole('row')[1]!;
    expect(first.textContent).toContain('Preview');
    expect(first.textContent).toContain('Add the login page');
    expect(first.textContent).not.toContain('With a body.');
    expect(within(first).getByRole('link', { name: 'feature/login' }).getAttribute('href')).toBe(
      'http://web-git-feature-login.localhost:8787',
    );

    fireEvent.change(screen.getByLabelText('Show'), { target: { value: 'preview' } });
    await waitFor(() => expect(within(screen.getByRole('table')).getAllByRole('row')).toHaveLength(2));
    expect(callsTo('GET /projects/web/deployments').at(-1)!.search.get('target')).toBe('preview');
    expect(window.location.search).toBe('?target=preview');

    fireEvent.change(screen.getByLabelText('Branch'), { target: { value: 'feature/login' } });
    await waitFor(() =>
      expect(callsTo('GET /projects/web/deployments').at(-1)!.search.get('branch')).toBe('feature/login'),
    );
    expect(callsTo('GET /projects/web/deployments').at(-1)!.search.get('target')).toBe('preview');
    expect(new URLSearchParams(window.location.search).get('branch')).toBe('feature/login');
  });
});

describe("a preview's deployment page", () => {
  it('shows the branch, the commit message and the branch URL, and offers no production redeploy', async () => {
    const id = deploymentId(9);
    fakeApi({
      ...SIGNED_IN,
      [`GET /deployments/${id}`]: () =>
        ok(
          deploymentView({
            id,
            target: 'preview',
            branch: 'feature/login',
            gitRef: 'abcdef0123456789abcdef0123456789abcdef01',
            branchUrl: 'http://web-git-feature-login.localhost:8787',
            commitMessage: 'Add the login page\n\nWith a body.',
          }),
        ),
    });
    renderApp(`/deployments/${id}`);
    const link = await screen.findByRole('link', { name: 'web-git-feature-login.localhost:8787' });
    expect(link.getAttribute('href')).toBe('http://web-git-feature-login.localhost:8787');
    expect(screen.getByText('on feature/login', { exact: false })).toBeTruthy();
    expect(screen.getByText('Add the login page')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Redeploy without cache' })).toBeNull();
  });
});

import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN } from '../test/fake-api.js';
import { deploymentId, deploymentView, projectView } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

// 25 ready deployments, newest (25) first; the API pages them 20 at a time with `before`.
const all = Array.from({ length: 25 }, (_, i) =>
  deploymentView({ id: deploymentId(25 - i), isProduction: i === 0 }),
);
let production = deploymentId(25);

function api() {
  production = deploymentId(25);
  return fakeApi({
    ...SIGNED_IN,
    'GET /projects/web': () => ok(projectView({ productionDeploymentId: production })),
    'GET /projects/web/deployments': (call) => {
      const before = call.search.get('before');
      const start = before ? all.findIndex((d) => d.id === before) + 1 : 0;
      const limit = Number(call.search.get('limit'));
      return ok(all.slice(start, start + limit).map((d) => ({ ...d, isProduction: d.id === production })));
    },
    'POST /projects/web/promote': (call) => {
      production = (call.body as { deploymentId: string }).deploymentId;
      return ok(deploymentView({ id: production, isProduction: true }));
    },
  });
}

const rows = () => within(screen.getByRole('table')).getAllByRole('row').slice(1);

describe('deployment history', () => {
  it('keeps the older pages it loaded when the list refreshes', async () => {
    const { callsTo } = api();
    renderApp('/projects/web');
    await waitFor(() => expect(rows()).toHaveLength(20));
    fireEvent.click(screen.getByRole('button', { name: 'Load older deployments' }));
    await waitFor(() => expect(rows()).toHaveLength(25));
    expect(screen.queryByRole('button', { name: 'Load older deployments' })).toBeNull();

    // A promote refreshes the list: both pages are fetched again, and both stay.
    const oldest = deploymentId(1).slice(0, 9);
    fireEvent.click(screen.getByRole('button', { name: `Promote ${oldest} to production` }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Promote' }));
    await screen.findByText(`Deployment ${oldest} is now in production.`);
    await waitFor(() => expect(document.querySelector('tr.is-production')?.textContent).toContain(oldest));
    expect(rows()).toHaveLength(25);
    const pages = callsTo('GET /projects/web/deployments').map((c) => c.search.get('before'));
    expect(pages).toEqual([null, deploymentId(6), null, deploymentId(6)]);
  });
});

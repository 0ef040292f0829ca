import { cleanup, screen, within } from '@testing-library/react';
import type { ProjectStorageView } from '@deploysphere/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, ok, SIGNED_IN } from '../test/fake-api.js';
import { projectView } from '../test/fixtures.js';
import { renderApp } from '../test/render-app.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const storage: ProjectStorageView = {
  projectSlug: 'web',
  retention: { retainReadyPerBranch: 3, previewMaxAgeDays: null, buildCacheExpiryDays: null },
  effective: { retainReadyPerBranch: 3, previewMaxAgeDays: 30, buildCacheExpiryDays: 7 },
  deployments: { live: 4, expired: 9, liveBytes: 2 * 1024 * 1024 },
  regions: [
    {
      region: 'eu-west-1',
      blobs: 120,
      blobBytes: 1536 * 1024,
      cacheObjects: 3,
      cacheBytes: 40 * 1024 * 1024,
    },
  ],
};

describe('storage tab', () => {
  it("shows the retention in force and each region's files and build cache", async () => {
    const { calls } = fakeApi({
      ...SIGNED_IN,
      'GET /projects/web': () => ok(projectView()),
      'GET /projects/web/storage': () => ok(storage),
    });
    renderApp('/projects/web/storage');
    const row = await screen.findByRole('row', { name: /eu-west-1/ });
    expect(within(row).getByText('120')).toBeTruthy();
    expect(screen.getByText(/last 3 ready/).textContent).not.toContain('default');
    expect(screen.getByText(/30 days/).textContent).toContain('(platform default)');
    expect(screen.getByText('9')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Storage' }).getAttribute('aria-current')).toBe('page');
    expect(calls.some((c) => c.path === '/projects/web/storage')).toBe(true);
  });
});

import type { DeploymentView } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from './git-repo.js';
import { startTestPlatform, type TestPlatform } from './harness.js';
import { VITE_REACT_APP as files } from './vite-react-app.js';

// A real framework app: Vite + React with npm dependencies installed from the registry inside
// the build sandbox, deployed to two regions and served by the edge.

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.stop();
});

describe('a Vite + React app', () => {
  it('installs, builds, deploys to two regions, and the edge serves its page and assets', async () => {
    const repo = await GitRepo.create(files);
    const res = await t.api<DeploymentView>('POST', '/deployments', {
      repoUrl: repo.url,
      installCommand: 'npm install --no-audit --no-fund',
      buildCommand: 'npm run build',
      slug: 'vite-react',
      region: ['us-east-1', 'eu-west-1'],
    });
    expect(res.status).toBe(202);
    const d = await t.waitFor(res.body.id, ['ready', 'error'], 300_000);
    expect(d.error).toBeNull();
    expect(d.status).toBe('ready');
    expect(d.regions).toEqual(['us-east-1', 'eu-west-1']);

    // Nearest region, on cold files (a cache hit names the region that filled the cache):
    // a visitor in Frankfurt is served from Ireland, one in Ohio from N. Virginia.
    const page = await t.visit('vite-react.localhost', '/', { 'x-deploysphere-geo': '50.1,8.7' });
    expect(page.headers['x-deploysphere-region']).toBe('eu-west-1');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<div id="root"></div>');
    const script = /src="(\/assets\/index-[^"]+\.js)"/.exec(page.body)?.[1];
    expect(script).toBeDefined();
    const asset = await t.visit('vite-react.localhost', script!, { 'x-deploysphere-geo': '40.0,-83.0' });
    expect(asset.headers['x-deploysphere-region']).toBe('us-east-1');
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.body).toContain('Hello from React');
  });
});

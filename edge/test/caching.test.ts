import { productionHost } from '@deploysphere/contracts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { rawRequest } from './support/http-client.js';
import { ROOT_DOMAIN, startTestStack, type TestStack } from './support/test-stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

it('serves hot manifests and blobs from the edge cache when every origin fails', async () => {
  const host = productionHost('cached-site', ROOT_DOMAIN);
  await stack.deploy([host], {
    files: [
      { path: 'index.html', body: '<p>cached</p>' },
      { path: 'big.bin', body: new Uint8Array(700 * 1024).fill(7) },
    ],
  });
  const first = await rawRequest(stack.edge.url, { host, path: '/' });
  expect(first.headers['x-deploysphere-cache']).toBe('miss');
  const big = await rawRequest(stack.edge.url, { host, path: '/big.bin' });
  expect(big.body.length).toBe(700 * 1024);

  for (const region of stack.regions) region.proxy.mode = 'error';
  try {
    const hits = stack.regions.map((r) => r.proxy.hits.length);
    const again = await rawRequest(stack.edge.url, { host, path: '/' });
    expect(again.status).toBe(200);
    expect(again.body.toString()).toBe('<p>cached</p>');
    expect(again.headers['x-deploysphere-cache']).toBe('hit');
    // Large blobs live in the Cache API only (not isolate memory), and still need no origin.
    const bigAgain = await rawRequest(stack.edge.url, { host, path: '/big.bin' });
    expect(bigAgain.status).toBe(200);
    expect(bigAgain.headers['x-deploysphere-cache']).toBe('hit');
    expect(bigAgain.body.length).toBe(700 * 1024);
    expect(stack.regions.map((r) => r.proxy.hits.length)).toEqual(hits);
  } finally {
    for (const region of stack.regions) region.proxy.mode = 'pass';
  }
});

it('shares blobs by hash across deployments, so a promote needs no purge and no new origin read', async () => {
  const host = productionHost('promote-cache', ROOT_DOMAIN);
  const shared = { path: 'assets/lib.1a2b3c4d.js', body: 'shared library' };
  await stack.deploy([host], { files: [{ path: 'index.html', body: 'v1' }, shared] });
  expect((await rawRequest(stack.edge.url, { host, path: '/assets/lib.1a2b3c4d.js' })).status).toBe(200);
  await stack.deploy([host], { files: [{ path: 'index.html', body: 'v2' }, shared] });
  await expect
    .poll(async () => (await rawRequest(stack.edge.url, { host, path: '/' })).body.toString(), {
      timeout: 5000,
    })
    .toBe('v2');
  const lib = await rawRequest(stack.edge.url, { host, path: '/assets/lib.1a2b3c4d.js' });
  expect(lib.headers['x-deploysphere-cache']).toBe('hit');
});

import { deploymentHost, productionHost, type RouteRecord } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEdge } from '../src/node/local-edge.js';
import { rawRequest } from './support/http-client.js';
import { ROOT_DOMAIN, startTestStack, type TestStack } from './support/test-stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ routeCacheTtlMs: 200 });
});
afterAll(async () => {
  await stack?.stop();
});

const page = (text: string) => ({ files: [{ path: 'index.html', body: `<h1>${text}</h1>` }] });
const get = (host: string, path = '/', edge: LocalEdge = stack.edge) => rawRequest(edge.url, { host, path });

describe('routing by host', () => {
  it('serves production, deployment and custom-domain hosts from their route records', async () => {
    const prodHost = productionHost('shop', ROOT_DOMAIN);
    const prod = await stack.deploy([prodHost], page('production'));
    const depHost = deploymentHost('shop', prod.deploymentId, ROOT_DOMAIN);
    await stack.edge.routes.put(depHost, { ...prod.record, kind: 'deployment' });
    await stack.deploy(['www.customer-domain.example'], page('custom'), { kind: 'custom' });

    expect((await get(prodHost)).body.toString()).toContain('production');
    expect((await get(`${prodHost}:8443`)).body.toString()).toContain('production');
    expect((await get(prodHost.toUpperCase())).body.toString()).toContain('production');
    expect((await get(depHost)).body.toString()).toContain('production');
    expect((await get('www.customer-domain.example')).body.toString()).toContain('custom');
  });

  it('answers an unknown host with the platform 404 page, never a stack trace', async () => {
    for (const host of [`nope.${ROOT_DOMAIN}`, 'unknown.example', 'a'.repeat(300) + '.example']) {
      const res = await get(host, '/anything');
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body.toString()).toContain('There is no site at this address');
      expect(res.body.toString()).not.toMatch(/at \w+ \(|Error:/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('answers /healthz on the bare root domain', async () => {
    const res = await get(`${ROOT_DOMAIN}:8787`, '/healthz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toMatchObject({ status: 'ok', regions: expect.any(Array) });
    expect((await get(ROOT_DOMAIN, '/other')).status).toBe(404);
  });

  it('serves a promote within the route cache TTL, with no purge', async () => {
    const host = productionHost('promoted', ROOT_DOMAIN);
    await stack.deploy([host], page('first'));
    expect((await get(host)).body.toString()).toContain('first');
    await stack.deploy([host], page('second'));
    await expect
      .poll(async () => (await get(host)).body.toString(), { timeout: 5000, interval: 50 })
      .toContain('second');
  });

  it('keeps hot route records in the isolate instead of reading KV on every request', async () => {
    const edge = await stack.startEdge({ routeCacheTtlMs: 600_000 });
    const host = productionHost('cached', ROOT_DOMAIN);
    const { record } = await stack.deploy([host], page('cached'));
    expect((await get(host, '/', edge)).status).toBe(200);
    // With the record gone from KV, only the isolate's copy can still answer.
    await edge.routes.delete(host);
    expect(await edge.routes.get(host)).toBeNull();
    expect((await get(host, '/', edge)).status).toBe(200);
    // A host first seen as unknown is remembered as unknown for the TTL too (no KV flood).
    const later = productionHost('later', ROOT_DOMAIN);
    expect((await get(later, '/', edge)).status).toBe(404);
    await edge.routes.put(later, record satisfies RouteRecord);
    expect((await get(later, '/', edge)).status).toBe(404);
  });
});

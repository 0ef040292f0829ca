import { productionHost } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from './support/http-client.js';
import { ROOT_DOMAIN, startTestStack, type TestStack } from './support/test-stack.js';

let stack: TestStack;
let counter = 0;

beforeAll(async () => {
  stack = await startTestStack({ originTimeoutMs: 400 });
});
afterAll(async () => {
  await stack?.stop();
});

/** A fresh site per case: nothing cached, so the region header names the origin that was read. */
async function freshSite(regions?: string[]) {
  const host = productionHost(`geo-${++counter}`, ROOT_DOMAIN);
  await stack.deploy(
    [host],
    { files: [{ path: 'index.html', body: `<p>site ${counter}</p>` }] },
    { regions },
  );
  return host;
}

const CITIES = {
  newYork: '40.71,-74.01',
  saoPaulo: '-23.55,-46.63',
  london: '51.51,-0.13',
  berlin: '52.52,13.40',
  tokyo: '35.68,139.69',
  sydney: '-33.87,151.21',
};

describe('nearest region', () => {
  it.each([
    ['New York', CITIES.newYork, 'us-east-1'],
    ['São Paulo', CITIES.saoPaulo, 'us-east-1'],
    ['London', CITIES.london, 'eu-west-1'],
    ['Berlin', CITIES.berlin, 'eu-west-1'],
    ['Tokyo', CITIES.tokyo, 'ap-southeast-1'],
    ['Sydney', CITIES.sydney, 'ap-southeast-1'],
  ])('a visitor in %s is served from %s (dev-mode geo header)', async (_city, geo, region) => {
    const host = await freshSite();
    const res = await rawRequest(stack.edge.url, { host, path: '/', headers: { 'x-deploysphere-geo': geo } });
    expect(res.status).toBe(200);
    expect(res.headers['x-deploysphere-region']).toBe(region);
  });

  it('uses request.cf latitude/longitude when there is no header', async () => {
    const host = await freshSite();
    const res = await stack.edge.dispatchFetch(`http://${host}/`, {
      cf: { latitude: '48.85', longitude: '2.35' },
    });
    await res.arrayBuffer();
    expect(res.headers.get('x-deploysphere-region')).toBe('eu-west-1');
  });

  it('serves from the primary (first region of the record) when the location is unknown', async () => {
    const host = await freshSite(['ap-southeast-1', 'eu-west-1', 'us-east-1']);
    const res = await rawRequest(stack.edge.url, { host, path: '/' });
    expect(res.headers['x-deploysphere-region']).toBe('ap-southeast-1');
    const garbled = await rawRequest(stack.edge.url, {
      host: await freshSite(['eu-west-1', 'us-east-1']),
      path: '/',
      headers: { 'x-deploysphere-geo': 'not,a-place' },
    });
    expect(garbled.headers['x-deploysphere-region']).toBe('eu-west-1');
  });

  it('only considers the regions holding the deployment', async () => {
    const host = await freshSite(['us-east-1', 'eu-west-1']);
    const res = await rawRequest(stack.edge.url, {
      host,
      path: '/',
      headers: { 'x-deploysphere-geo': CITIES.tokyo },
    });
    expect(res.headers['x-deploysphere-region']).toBe('eu-west-1');
  });

  it('ignores the geo header outside dev mode', async () => {
    const edge = await stack.startEdge({ devMode: false });
    const host = productionHost(`geo-${++counter}`, ROOT_DOMAIN);
    await stack.deploy([host], { files: [{ path: 'index.html', body: `<p>prod ${counter}</p>` }] });
    const res = await rawRequest(edge.url, {
      host,
      path: '/',
      headers: { 'x-deploysphere-geo': CITIES.tokyo },
    });
    expect(res.headers['x-deploysphere-region']).toBe('us-east-1');
  });
});

describe('failover', () => {
  const fromLondon = (host: string, path = '/') =>
    rawRequest(stack.edge.url, { host, path, headers: { 'x-deploysphere-geo': CITIES.london } });

  it('moves on to the next nearest region when the nearest answers 5xx', async () => {
    const host = await freshSite();
    const ireland = stack.region('eu-west-1').proxy;
    ireland.mode = 'error';
    try {
      const res = await fromLondon(host);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toContain('<p>site');
      expect(res.headers['x-deploysphere-region']).toBe('us-east-1');
      expect(ireland.hits.some((path) => path.includes('/deployments/'))).toBe(true);
    } finally {
      ireland.mode = 'pass';
    }
  });

  it.each([
    ['hang', 'is slower than ORIGIN_TIMEOUT_MS'],
    ['reset', 'resets the connection'],
  ] as const)('moves on when the nearest origin %s (%s)', async (mode, _why) => {
    const host = await freshSite();
    const ireland = stack.region('eu-west-1').proxy;
    ireland.mode = mode;
    try {
      const res = await fromLondon(host);
      expect(res.status).toBe(200);
      expect(res.headers['x-deploysphere-region']).toBe('us-east-1');
    } finally {
      ireland.mode = 'pass';
    }
  });

  it('keeps serving when a region is stopped in the middle of the test', async () => {
    // A fresh edge: no health penalties left over from the cases above.
    const edge = await stack.startEdge({ originTimeoutMs: 400 });
    const host = productionHost(`geo-${++counter}`, ROOT_DOMAIN);
    await stack.deploy([host], {
      files: [
        { path: 'index.html', body: '<p>before</p>' },
        { path: 'after.html', body: '<p>after</p>' },
      ],
    });
    const fromTokyo = (path: string) =>
      rawRequest(edge.url, { host, path, headers: { 'x-deploysphere-geo': CITIES.tokyo } });
    const before = await fromTokyo('/');
    expect(before.headers['x-deploysphere-region']).toBe('ap-southeast-1');

    await stack.region('ap-southeast-1').s3.stop();

    const after = await fromTokyo('/after');
    expect(after.status).toBe(200);
    expect(after.body.toString()).toContain('after');
    // Tokyo → Ireland (9,600 km) is nearer than Tokyo → N. Virginia (10,900 km).
    expect(after.headers['x-deploysphere-region']).toBe('eu-west-1');
    // Already in the edge cache: still served, named by the region that filled the cache.
    const cached = await fromTokyo('/');
    expect(cached.status).toBe(200);
    expect(cached.headers['x-deploysphere-cache']).toBe('hit');
    expect(cached.headers['x-deploysphere-region']).toBe('ap-southeast-1');
  });

  it('answers 503 without details when no region can serve', async () => {
    // Published to N. Virginia, but routed only to Singapore, whose server is stopped above.
    const host = await freshSite(['us-east-1']);
    const record = await stack.edge.routes.get(host);
    if (!record) throw new Error('route missing');
    await stack.edge.routes.put(host, { ...record, regions: ['ap-southeast-1'] });
    const html = await rawRequest(stack.edge.url, { host, path: '/', headers: { accept: 'text/html' } });
    expect(html.status).toBe(503);
    const json = await rawRequest(stack.edge.url, {
      host,
      path: '/',
      headers: { accept: 'application/json' },
    });
    expect(json.status).toBe(503);
    expect(JSON.parse(json.body.toString())).toEqual({
      error: { code: 'unavailable', message: 'Internal error' },
    });
  });
});

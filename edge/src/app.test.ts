import { createHash } from 'node:crypto';
import { blobKey, manifestKey, routeKey, type Manifest, type RouteRecord } from '@deploysphere/contracts';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import type { Bindings } from './config/bindings.js';

const DEPLOYMENT = 'a'.repeat(24);
const sha = (body: string) => createHash('sha256').update(body).digest('hex');
const INDEX = '<h1>home</h1>';

const manifest: Manifest = {
  v: 1,
  deploymentId: DEPLOYMENT,
  createdAt: new Date(0).toISOString(),
  files: { 'index.html': { hash: sha(INDEX), size: INDEX.length, contentType: 'text/html; charset=utf-8' } },
  redirects: [],
  headers: [],
};
const record: RouteRecord = {
  v: 1,
  kind: 'production',
  deploymentId: DEPLOYMENT,
  projectSlug: 'shop',
  regions: ['us-east-1', 'eu-west-1'],
  updatedAt: new Date(0).toISOString(),
};

const REGIONS = [
  {
    id: 'us-east-1',
    name: 'Virginia',
    latitude: 38.9,
    longitude: -77.4,
    endpoint: 'http://us.origin.test',
    bucket: 'sites',
  },
  {
    id: 'eu-west-1',
    name: 'Ireland',
    latitude: 53.35,
    longitude: -6.26,
    endpoint: 'http://eu.origin.test',
    bucket: 'sites',
  },
];

type Behaviour = 'ok' | 'error' | 'throw';

/** In-memory origins and control plane behind one fetch function. */
function world() {
  const objects = new Map<string, string>([
    [`/sites/${manifestKey(DEPLOYMENT)}`, JSON.stringify(manifest)],
    [`/sites/${blobKey(sha(INDEX))}`, INDEX],
  ]);
  const behaviour: Record<string, Behaviour> = {
    'us.origin.test': 'ok',
    'eu.origin.test': 'ok',
    'cp.test': 'ok',
  };
  const calls: string[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    calls.push(`${url.host}${url.pathname}`);
    const mode = behaviour[url.host];
    if (mode === 'throw') throw new TypeError('network down');
    if (mode === 'error') return new Response('boom', { status: 503 });
    if (url.host === 'cp.test') return new Response(null, { status: 204 });
    const body = objects.get(url.pathname);
    return body === undefined ? new Response('NoSuchKey', { status: 404 }) : new Response(body);
  };
  const kv = new Map<string, string>([[routeKey('shop.example.com'), JSON.stringify(record)]]);
  const env: Bindings = {
    ROUTES: { get: async (key: string) => kv.get(key) ?? null } as unknown as Bindings['ROUTES'],
    ROOT_DOMAIN: 'example.com',
    REGIONS: JSON.stringify(REGIONS),
    DEV_MODE: 'true',
    METRICS_URL: 'http://cp.test',
    METRICS_TOKEN: 'token',
    METRICS_FLUSH_INTERVAL_MS: '0',
  };
  return { fetch, behaviour, calls, env };
}

let w: ReturnType<typeof world>;
let app: ReturnType<typeof createApp>;
const pending: Promise<unknown>[] = [];
const ctx = {
  waitUntil: (p: Promise<unknown>) => void pending.push(p),
  passThroughOnException: () => undefined,
  props: {},
};

beforeEach(() => {
  w = world();
  app = createApp({ fetch: w.fetch, cache: null });
  pending.length = 0;
});

const request = (url: string, init: RequestInit = {}) =>
  app.request(url, init, w.env, ctx as unknown as Parameters<typeof app.request>[3]);

describe('edge app', () => {
  it('serves a routed host and ships metrics through waitUntil', async () => {
    const res = await request('http://shop.example.com/');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(INDEX);
    expect(res.headers.get('x-deploysphere-region')).toBe('us-east-1');
    expect(res.headers.get('x-deploysphere-cache')).toBe('miss');
    await Promise.all(pending);
    expect(w.calls).toContain('cp.test/internal/edge-metrics');
  });

  it('answers /healthz on the root domain and 404 for unknown hosts', async () => {
    const health = await request('http://example.com/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', regions: ['us-east-1', 'eu-west-1'] });
    const unknown = await request('http://nobody.example.com/');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('cache-control')).toBe('no-store');
  });

  it('answers other methods with 405 and Allow', async () => {
    const res = await request('http://shop.example.com/', { method: 'POST', body: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(await res.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
  });

  it.each<Behaviour>(['error', 'throw'])(
    'fails over when the nearest origin answers with %s',
    async (mode) => {
      w.behaviour['eu.origin.test'] = mode;
      const res = await request('http://shop.example.com/', {
        headers: { 'x-deploysphere-geo': '51.5,-0.1' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-deploysphere-region')).toBe('us-east-1');
      expect(w.calls[0]).toMatch(/^eu\.origin\.test/);
    },
  );

  it('hides origin failures behind a 503 and keeps serving when metrics fail', async () => {
    w.behaviour['us.origin.test'] = 'throw';
    w.behaviour['eu.origin.test'] = 'error';
    w.behaviour['cp.test'] = 'throw';
    const res = await request('http://shop.example.com/', { headers: { accept: 'application/json' } });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: 'unavailable', message: 'Internal error' } });
    await expect(Promise.all(pending)).resolves.toBeDefined();
  });

  it('maps a configuration error to a 500 without details', async () => {
    const res = await app.request(
      'http://shop.example.com/',
      {},
      { ...w.env, REGIONS: 'nope' },
      ctx as never,
    );
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('REGIONS');
  });
});

import { createHash } from 'node:crypto';
import { blobKey, manifestKey, routeKey, type Manifest, type RouteRecord } from '@deploysphere/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../app.js';
import type { Bindings } from '../config/bindings.js';
import { privateResponse, readCookie } from './protected-host.js';

const DEPLOYMENT = 'b'.repeat(24);
const INDEX = '<h1>home</h1>';
const sha = (body: string) => createHash('sha256').update(body).digest('hex');
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
  kind: 'deployment',
  deploymentId: DEPLOYMENT,
  projectSlug: 'shop',
  regions: ['us-east-1'],
  updatedAt: new Date(0).toISOString(),
};

/** The app on an in-memory KV and origin, counting KV reads; the edge has a signing key. */
function edge() {
  const objects = new Map([
    [`/sites/${manifestKey(DEPLOYMENT)}`, JSON.stringify(manifest)],
    [`/sites/${blobKey(sha(INDEX))}`, INDEX],
  ]);
  const kv = new Map([
    [routeKey('open.example.com'), JSON.stringify(record)],
    [routeKey('guarded.example.com'), JSON.stringify({ ...record, protection: { epoch: 0 } })],
  ]);
  const kvReads: string[] = [];
  const env: Bindings = {
    ROUTES: {
      get: async (key: string) => {
        kvReads.push(key);
        return kv.get(key) ?? null;
      },
    } as unknown as Bindings['ROUTES'],
    ROOT_DOMAIN: 'example.com',
    REGIONS: JSON.stringify([
      {
        id: 'us-east-1',
        name: 'Virginia',
        latitude: 38.9,
        longitude: -77.4,
        endpoint: 'http://us.origin.test',
        bucket: 'sites',
      },
    ]),
    PROTECTION_SIGNING_KEY: 'k'.repeat(40),
    PROTECTION_AUTH_URL: 'http://cp.test',
    // Long enough that every request of a test reads the cached record.
    ROUTE_CACHE_TTL_MS: '600000',
  };
  const app = createApp({
    cache: null,
    fetch: async (request: Request) => {
      const body = objects.get(new URL(request.url).pathname);
      return body === undefined ? new Response('NoSuchKey', { status: 404 }) : new Response(body);
    },
  });
  const request = (url: string, headers: Record<string, string> = {}) => app.request(url, { headers }, env);
  return { request, kvReads };
}

afterEach(() => vi.restoreAllMocks());

describe('the hot path of an unprotected host', () => {
  it('does no crypto and reads KV once for the route record, with a cookie or without, on an edge that has the key', async () => {
    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    const verify = vi.spyOn(crypto.subtle, 'verify');
    const { request, kvReads } = edge();
    const variants: Record<string, string>[] = [{}, { cookie: 'ds_protection=forged.value' }, {}];
    for (const headers of variants) {
      const res = await request('http://open.example.com/', headers);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(INDEX);
      expect(res.headers.get('cache-control')).toBe('public, max-age=0, must-revalidate');
    }
    expect(kvReads).toEqual([routeKey('open.example.com')]);
    expect(importKey).not.toHaveBeenCalled();
    expect(verify).not.toHaveBeenCalled();

    // The spies do see a protected host's check, so their silence above means something.
    const guarded = await request('http://guarded.example.com/', { cookie: 'ds_protection=forged.value' });
    expect(guarded.status).toBe(302);
    expect(importKey).toHaveBeenCalledTimes(1);
  });
});

describe('readCookie', () => {
  it('finds a cookie among others and ignores look-alikes', () => {
    expect(readCookie('a=1; ds_protection=x.y; b=2', 'ds_protection')).toBe('x.y');
    expect(readCookie('xds_protection=1; ds_protection_old=2', 'ds_protection')).toBeUndefined();
    expect(readCookie(null, 'ds_protection')).toBeUndefined();
  });
});

describe('privateResponse', () => {
  it('makes shared-cache directives private and keeps the browser max-age', () => {
    const r = (cc: string) =>
      privateResponse(new Response('x', { headers: { 'cache-control': cc } })).headers.get('cache-control');
    expect(r('public, max-age=31536000, immutable')).toBe('private, max-age=31536000, immutable');
    expect(r('public, max-age=60, s-maxage=600')).toBe('private, max-age=60');
    expect(r('no-store')).toBe('private, no-store');
  });
});

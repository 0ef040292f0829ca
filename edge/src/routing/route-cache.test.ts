import { routeKey, type RouteRecord } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import { RouteCache } from './route-cache.js';

const record = (deploymentId: string): RouteRecord => ({
  v: 1,
  kind: 'production',
  deploymentId,
  projectSlug: 'shop',
  regions: ['us-east-1'],
  updatedAt: new Date(0).toISOString(),
});

function fakeKv() {
  const data = new Map<string, string>();
  let reads = 0;
  return {
    data,
    get reads() {
      return reads;
    },
    async get(key: string) {
      reads++;
      return data.get(key) ?? null;
    },
  };
}

describe('RouteCache', () => {
  it('serves from the isolate until the TTL passes, then sees the new record', async () => {
    const kv = fakeKv();
    let now = 0;
    const cache = new RouteCache(kv, 1000, 100, () => now);
    kv.data.set(routeKey('shop.example'), JSON.stringify(record('a'.repeat(24))));
    expect((await cache.lookup('shop.example'))?.deploymentId).toBe('a'.repeat(24));
    kv.data.set(routeKey('shop.example'), JSON.stringify(record('b'.repeat(24))));
    now = 999;
    expect((await cache.lookup('shop.example'))?.deploymentId).toBe('a'.repeat(24));
    expect(kv.reads).toBe(1);
    now = 1000;
    expect((await cache.lookup('shop.example'))?.deploymentId).toBe('b'.repeat(24));
  });

  it('caches misses and shares concurrent reads', async () => {
    const kv = fakeKv();
    const cache = new RouteCache(kv, 1000, 100, () => 0);
    await Promise.all([cache.lookup('x.example'), cache.lookup('x.example'), cache.lookup('x.example')]);
    await cache.lookup('x.example');
    expect(kv.reads).toBe(1);
  });

  it('treats corrupt records as absent and logs them', async () => {
    const kv = fakeKv();
    const logged: string[] = [];
    const cache = new RouteCache(
      kv,
      0,
      100,
      () => 0,
      (message) => logged.push(message),
    );
    kv.data.set(routeKey('bad.example'), '{not json');
    kv.data.set(routeKey('odd.example'), JSON.stringify({ v: 2 }));
    expect(await cache.lookup('bad.example')).toBeNull();
    expect(await cache.lookup('odd.example')).toBeNull();
    expect(logged).toHaveLength(2);
  });

  it('stays bounded', async () => {
    const kv = fakeKv();
    const cache = new RouteCache(kv, 60_000, 2, () => 0);
    for (const host of ['a', 'b', 'c', 'a']) await cache.lookup(host);
    expect(kv.reads).toBe(4);
  });
});

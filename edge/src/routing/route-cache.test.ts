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

  it('caches misses', async () => {
    const kv = fakeKv();
    const cache = new RouteCache(kv, 1000, 100, () => 0);
    expect(await cache.lookup('x.example')).toBeNull();
    expect(await cache.lookup('x.example')).toBeNull();
    expect(kv.reads).toBe(1);
  });

  // workerd cancels a request that waits only on another request's I/O (the edge's 500s under load).
  it('never makes a lookup wait on a read another lookup started', async () => {
    const reads: { key: string; resolve: (value: string | null) => void }[] = [];
    const source = {
      get: (key: string) => new Promise<string | null>((resolve) => reads.push({ key, resolve })),
    };
    let now = 0;
    const cache = new RouteCache(source, 1000, 100, () => now, undefined, 500);
    const a = JSON.stringify(record('a'.repeat(24)));
    const b = JSON.stringify(record('b'.repeat(24)));

    // No entry yet: each concurrent lookup reads for itself.
    const first = [cache.lookup('shop.example'), cache.lookup('shop.example')];
    expect(reads).toHaveLength(2);
    for (const read of reads.splice(0)) read.resolve(a);
    expect((await Promise.all(first)).map((r) => r?.deploymentId)).toEqual(['a'.repeat(24), 'a'.repeat(24)]);

    // Expired: one lookup refreshes, the others answer with the old record without waiting.
    now = 1000;
    const refreshing = cache.lookup('shop.example');
    expect(reads).toHaveLength(1);
    expect((await cache.lookup('shop.example'))?.deploymentId).toBe('a'.repeat(24));
    expect(reads).toHaveLength(1);
    reads.splice(0)[0]?.resolve(b);
    expect((await refreshing)?.deploymentId).toBe('b'.repeat(24));
    expect((await cache.lookup('shop.example'))?.deploymentId).toBe('b'.repeat(24));

    // A refresh that never completes (its request was cancelled) is retried after the grace.
    now = 2000;
    void cache.lookup('shop.example');
    now = 2499;
    expect((await cache.lookup('shop.example'))?.deploymentId).toBe('b'.repeat(24));
    expect(reads).toHaveLength(1);
    now = 2500;
    const retry = cache.lookup('shop.example');
    expect(reads).toHaveLength(2);
    reads[1]?.resolve(a);
    expect((await retry)?.deploymentId).toBe('a'.repeat(24));
  });

  it('lets the next lookup retry at once after a failed refresh', async () => {
    let fail = false;
    let reads = 0;
    const source = {
      async get() {
        reads++;
        if (fail) throw new Error('KV unavailable');
        return JSON.stringify(record('a'.repeat(24)));
      },
    };
    let now = 0;
    const cache = new RouteCache(source, 1000, 100, () => now);
    await cache.lookup('shop.example');
    now = 1000;
    fail = true;
    await expect(cache.lookup('shop.example')).rejects.toThrow('KV unavailable');
    fail = false;
    expect((await cache.lookup('shop.example'))?.deploymentId).toBe('a'.repeat(24));
    expect(reads).toBe(3);
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

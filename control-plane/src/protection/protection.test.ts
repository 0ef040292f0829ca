import type { RouteRecord } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import type { RouteStore } from '../hosts/route-store.js';
import { RouteWriter, type HostProtection } from '../hosts/route-writer.js';
import { hostProtection, protectionData, type ProtectionColumns } from './project-protection.js';
import { returnPathOn } from './protection-service.js';

const columns = (over: Partial<ProtectionColumns> = {}): ProtectionColumns => ({
  protectionMode: 'none',
  protectionProduction: false,
  protectionPasswordHash: null,
  protectionEpoch: 4,
  ...over,
});

function memoryStore(): RouteStore & { records: Map<string, RouteRecord> } {
  const records = new Map<string, RouteRecord>();
  return {
    records,
    put: async (h, r) => void records.set(h, r),
    get: async (h) => records.get(h) ?? null,
    delete: async (h) => void records.delete(h),
  };
}

describe('route records and protection', () => {
  it('protects previews only, or production too when asked', () => {
    expect(hostProtection(columns())).toEqual({});
    expect(hostProtection(columns({ protectionMode: 'team' }))).toEqual({ previews: { epoch: 4 } });
    expect(hostProtection(columns({ protectionMode: 'password', protectionProduction: true }))).toEqual({
      previews: { epoch: 4 },
      production: { epoch: 4 },
    });
  });

  it('stamps every record the writer puts with the protection of its kind, as it is at that moment', async () => {
    const store = memoryStore();
    let current: HostProtection = { previews: { epoch: 1 } };
    const writer = new RouteWriter(store, 'example.test', async () => current);
    const project = { slug: 'shop', domains: [{ hostname: 'shop.customer.test' }] };
    const d = { id: 'd'.repeat(24), regions: ['us-east-1'] };
    await writer.publishDeployment(project, d);
    await writer.publishProduction(project, d);
    await writer.publishBranchAlias('shop-git-main.example.test', 'shop', d);
    const of = (h: string) => store.records.get(h)?.protection;
    expect(of('shop.example.test')).toBeUndefined();
    expect(of('shop.customer.test')).toBeUndefined();
    expect(of('shop-git-main.example.test')).toEqual({ epoch: 1 });
    expect(
      [...store.records.values()].filter((r) => r.kind === 'deployment').every((r) => r.protection),
    ).toBe(true);

    current = { previews: { epoch: 2 }, production: { epoch: 2 } };
    const hosts = [...store.records.keys(), 'nobody.example.test'];
    expect(await writer.restampProject('shop', hosts)).toBe(4);
    expect(of('shop.example.test')).toEqual({ epoch: 2 });
    expect(of('shop.customer.test')).toEqual({ epoch: 2 });
    // Another project's record under a listed host is left alone.
    await store.put('other.example.test', {
      ...store.records.get('shop.example.test')!,
      projectSlug: 'other',
    });
    expect(await writer.restampProject('shop', ['other.example.test'])).toBe(0);
  });
});

describe('a protection change racing a publish', () => {
  it('ends with the new protection on the record, even when the change commits mid-write', async () => {
    const store = memoryStore();
    const answers: HostProtection[] = [{}, { previews: { epoch: 7 } }];
    // The first lookup sees the old settings; the change commits before the second.
    const writer = new RouteWriter(
      store,
      'example.test',
      async () => answers.shift() ?? { previews: { epoch: 7 } },
    );
    await writer.publishBranchAlias('shop-git-x.example.test', 'shop', {
      id: 'e'.repeat(24),
      regions: ['us-east-1'],
    });
    expect(store.records.get('shop-git-x.example.test')?.protection).toEqual({ epoch: 7 });
  });
});

describe('protection settings', () => {
  it('needs a signing key, and a password for password mode; every change moves the epoch', async () => {
    await expect(protectionData({ mode: 'team' }, columns(), false)).rejects.toMatchObject({
      status: 400,
      field: 'protection.mode',
    });
    await expect(protectionData({ mode: 'password' }, columns(), true)).rejects.toMatchObject({
      status: 400,
      field: 'protection.password',
    });
    expect(await protectionData(undefined, columns(), true)).toEqual({});
    expect(await protectionData({ production: true }, columns({ protectionMode: 'team' }), true)).toEqual({
      protectionProduction: true,
      protectionEpoch: 5,
    });
    const withPassword = await protectionData({ mode: 'password', password: 'long enough' }, null, true);
    expect(withPassword.protectionPasswordHash).toMatch(/^scrypt\$/);
    expect(withPassword.protectionEpoch).toBe(0);
    // Turning protection off needs no key: a platform that lost its key can still open its sites.
    expect(await protectionData({ mode: 'none' }, columns({ protectionMode: 'team' }), false)).toMatchObject({
      protectionMode: 'none',
    });
  });
});

describe('returnPathOn', () => {
  it('keeps paths and same-host URLs, and refuses everything else with a 400 naming return', () => {
    expect(returnPathOn('a.example.test', '/x?y=1')).toBe('/x?y=1');
    expect(returnPathOn('a.example.test', 'https://a.example.test:8443/x')).toBe('/x');
    for (const bad of [
      'https://b.example.test/',
      'https://a.example.test.evil/',
      'https://user:pw@a.example.test/',
      '//a.example.test/',
      'javascript:alert(1)',
      'x',
    ]) {
      expect(() => returnPathOn('a.example.test', bad), bad).toThrow(
        expect.objectContaining({ field: 'return' }),
      );
    }
  });
});

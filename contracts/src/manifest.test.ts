import { describe, expect, it } from 'vitest';
import { blobKey, manifestKey, ManifestSchema, SitePathSchema } from './manifest.js';
import { routeKey, RouteRecordSchema } from './route-record.js';

describe('SitePathSchema', () => {
  it.each(['index.html', 'assets/app.1234abcd.js', 'a/b/c d.txt'])('accepts %s', (p) => {
    expect(SitePathSchema.safeParse(p).success).toBe(true);
  });
  it.each(['/index.html', '../secret', 'a/../b', 'a//b', './a', 'a\\b', 'a\0b', ''])('rejects %j', (p) => {
    expect(SitePathSchema.safeParse(p).success).toBe(false);
  });
});

describe('ManifestSchema', () => {
  const hash = 'a'.repeat(64);
  it('defaults rules to empty lists and rejects a malformed hash', () => {
    const manifest = ManifestSchema.parse({
      v: 1,
      deploymentId: 'abcdefghijklmnopqrstuvwx',
      createdAt: '2026-11-22T00:00:00.000Z',
      files: { 'index.html': { hash, size: 10, contentType: 'text/html' } },
    });
    expect(manifest.redirects).toEqual([]);
    expect(manifest.headers).toEqual([]);
    expect(
      ManifestSchema.safeParse({
        ...manifest,
        files: { 'index.html': { hash: 'xyz', size: 1, contentType: 'x' } },
      }).success,
    ).toBe(false);
  });

  it('keys blobs by hash and manifests by deployment', () => {
    expect(blobKey(hash)).toBe(`blobs/${hash}`);
    expect(manifestKey('abcdefghijklmnopqrstuvwx')).toBe(
      'deployments/abcdefghijklmnopqrstuvwx/manifest.json',
    );
  });
});

describe('route records', () => {
  it('keys hostnames case-insensitively and without a trailing dot', () => {
    expect(routeKey('Shop.Example.APP.')).toBe('host:shop.example.app');
  });
  it('needs at least one region', () => {
    const record = {
      v: 1,
      kind: 'production',
      deploymentId: 'abcdefghijklmnopqrstuvwx',
      projectSlug: 'shop',
      regions: [],
      updatedAt: '2026-11-22T00:00:00.000Z',
    };
    expect(RouteRecordSchema.safeParse(record).success).toBe(false);
    expect(RouteRecordSchema.safeParse({ ...record, regions: ['eu-west-1'] }).success).toBe(true);
  });
});

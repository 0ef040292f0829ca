import { describe, expect, it } from 'vitest';
import {
  importProtectionKey,
  PROTECTION_AUTH_PATH,
  safeReturnPath,
  signProtectionToken,
  verifyProtectionToken,
} from './protection.js';

const SECRET = 'k'.repeat(40);

describe('protection tokens', () => {
  it('round-trips a grant and refuses it for another host, after expiry, for another epoch, or as a cookie', async () => {
    const key = await importProtectionKey(SECRET);
    const token = await signProtectionToken(key, { k: 'grant', h: 'a.example', r: '/x', e: 1000, p: 2 });
    const check = { host: 'a.example', epoch: 2, now: 999 };
    expect(await verifyProtectionToken(key, 'grant', token, check)).toMatchObject({
      ok: true,
      payload: { r: '/x' },
    });
    expect(await verifyProtectionToken(key, 'grant', token, { ...check, host: 'b.example' })).toEqual({
      ok: false,
      reason: 'host',
    });
    expect(await verifyProtectionToken(key, 'grant', token, { ...check, now: 1000 })).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(await verifyProtectionToken(key, 'grant', token, { ...check, epoch: 3 })).toEqual({
      ok: false,
      reason: 'epoch',
    });
    expect(await verifyProtectionToken(key, 'cookie', token, check)).toEqual({ ok: false, reason: 'kind' });
  });

  it('refuses a token signed with another key, and malformed ones, before reading them', async () => {
    const key = await importProtectionKey(SECRET);
    const other = await importProtectionKey('o'.repeat(40));
    const token = await signProtectionToken(other, { k: 'cookie', h: 'a.example', e: 2000, p: 0 });
    const check = { host: 'a.example', epoch: 0, now: 1 };
    expect(await verifyProtectionToken(key, 'cookie', token, check)).toEqual({
      ok: false,
      reason: 'signature',
    });
    for (const bad of ['', '.', 'a.b.c', 'abc', `${token}x`, '%%%.%%%']) {
      expect((await verifyProtectionToken(key, 'cookie', bad, check)).ok).toBe(false);
    }
  });

  it('refuses a short signing key', async () => {
    await expect(importProtectionKey('short')).rejects.toThrow(/at least 32/);
  });
});

describe('safeReturnPath', () => {
  it('keeps plain paths with their query', () => {
    expect(safeReturnPath('/')).toBe('/');
    expect(safeReturnPath('/docs/a?b=1')).toBe('/docs/a?b=1');
    expect(safeReturnPath(`${PROTECTION_AUTH_PATH}?token=x`)).toBe('/');
  });

  it('refuses anything that could leave the host', () => {
    for (const bad of [
      '',
      'https://evil.example/',
      '//evil.example',
      '/\\evil.example',
      'evil.example',
      'javascript:alert(1)',
      '/a\nb',
      '/a\\b',
      `/${'a'.repeat(3000)}`,
    ]) {
      expect(safeReturnPath(bad), bad).toBeUndefined();
    }
  });
});

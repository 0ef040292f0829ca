import { describe, expect, it } from 'vitest';
import { deploymentHost, productionHost, shortId, SlugSchema } from './ids.js';

describe('SlugSchema', () => {
  it.each(['abc', 'my-site', 'a1-b2-c3', 'x'.repeat(40)])('accepts %s', (slug) => {
    expect(SlugSchema.safeParse(slug).success).toBe(true);
  });

  it.each([
    ['ab', 'at least 3'],
    ['x'.repeat(41), 'at most 40'],
    ['My-Site', 'lowercase'],
    ['-site', 'start or end'],
    ['site-', 'start or end'],
    ['my--site', '"--"'],
    ['www', 'reserved'],
    ['api', 'reserved'],
    ['a_b', 'lowercase'],
  ])('rejects %s (%s)', (slug, why) => {
    const result = SlugSchema.safeParse(slug);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain(why);
  });
});

describe('hostnames', () => {
  it('puts a deployment on its own permanent host that cannot collide with a slug', () => {
    const id = 'abcdefghijklmnopqrstuvwx';
    expect(productionHost('shop', 'example.app')).toBe('shop.example.app');
    expect(deploymentHost('shop', id, 'example.app')).toBe(`shop--${shortId(id)}.example.app`);
    // A slug can never contain "--", so no slug's production host equals a deployment host.
    expect(SlugSchema.safeParse(`shop--${shortId(id)}`).success).toBe(false);
  });
});

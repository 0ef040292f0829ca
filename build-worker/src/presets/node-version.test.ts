import { describe, expect, it } from 'vitest';
import { satisfiesRange } from './node-version.js';

describe('satisfiesRange', () => {
  it.each([
    ['20.19.0', '>=18', true],
    ['20.19.0', '>=22', false],
    ['20.19.0', '^20.19.0 || ^22.12.0', true],
    ['20.10.0', '^20.19.0 || ^22.12.0', false],
    ['20.19.0', '20', true],
    ['20.19.0', '18.x', false],
    ['20.19.0', '~20.19', true],
    ['20.19.0', '18 - 22', true],
    ['20.19.0', '>=18 <20', false],
    ['20.19.0', 'lts/iron', null],
  ] as const)('%s in %s → %s', (version, range, expected) => {
    expect(satisfiesRange(version, range)).toBe(expected);
  });
});

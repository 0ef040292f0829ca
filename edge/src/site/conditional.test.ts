import { describe, expect, it } from 'vitest';
import { decideRange, etagFor, ifNoneMatchHits } from './conditional.js';

const etag = etagFor('a'.repeat(64));

describe('If-None-Match', () => {
  it.each([
    [etag, true],
    [`W/${etag}`, true],
    [`"x", ${etag}`, true],
    ['*', true],
    ['"x"', false],
    [null, false],
  ])('%s → %s', (header, hit) => expect(ifNoneMatchHits(header, etag)).toBe(hit));
});

describe('Range', () => {
  it.each([
    ['bytes=0-9', { kind: 'partial', start: 0, end: 9 }],
    ['bytes=90-', { kind: 'partial', start: 90, end: 99 }],
    ['bytes=-5', { kind: 'partial', start: 95, end: 99 }],
    ['bytes=-500', { kind: 'partial', start: 0, end: 99 }],
    ['bytes=50-5000', { kind: 'partial', start: 50, end: 99 }],
    ['bytes=100-', { kind: 'unsatisfiable' }],
    ['bytes=9-1', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=x-y', { kind: 'unsatisfiable' }],
    ['bytes=0-1,4-5', { kind: 'full' }],
    ['lines=0-1', { kind: 'full' }],
  ])('%s of 100 bytes → %j', (header, expected) => {
    expect(decideRange(header, 100, null, etag)).toEqual(expected);
  });

  it('ignores the range when If-Range names another representation', () => {
    expect(decideRange('bytes=0-1', 100, '"old"', etag)).toEqual({ kind: 'full' });
    expect(decideRange('bytes=0-1', 100, etag, etag)).toMatchObject({ kind: 'partial' });
  });

  it('cannot satisfy any range of an empty file', () => {
    expect(decideRange('bytes=0-', 0, null, etag)).toEqual({ kind: 'unsatisfiable' });
  });
});

import { AppError } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import { encodePath, parseRequestPath } from './request-path.js';

const status = (path: string): number | undefined => {
  try {
    parseRequestPath(path);
    return undefined;
  } catch (error) {
    return error instanceof AppError ? error.status : -1;
  }
};

describe('parseRequestPath', () => {
  it('decodes each segment once and drops empty ones', () => {
    expect(parseRequestPath('/a%20b//c/')).toEqual({ segments: ['a b', 'c'], trailingSlash: true });
    expect(parseRequestPath('/')).toEqual({ segments: [], trailingSlash: false });
    expect(parseRequestPath('/%252e%252e')).toEqual({ segments: ['%2e%2e'], trailingSlash: false });
  });

  it.each(['/..', '/%2e%2e/x', '/a/%2E', '/..%2fx', '/a%5cb', '/%00', '/a%0d%0a', '/%zz', '/%c0%ae', '/%'])(
    'refuses %s with 400',
    (path) => expect(status(path)).toBe(400),
  );

  it('refuses overlong paths with 414', () => {
    expect(status(`/${'a'.repeat(3000)}`)).toBe(414);
  });

  it('re-encodes segments so they cannot form new path levels', () => {
    expect(encodePath(['a/b', '..', 'c d'])).toBe('/a%2Fb/../c%20d');
    expect(encodePath([])).toBe('/');
  });
});

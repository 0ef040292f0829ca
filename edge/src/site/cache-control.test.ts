import { describe, expect, it } from 'vitest';
import {
  CACHE_HTML,
  CACHE_IMMUTABLE,
  CACHE_SHORT,
  cacheControlFor,
  isFingerprinted,
} from './cache-control.js';

describe('Cache-Control policy', () => {
  it.each([
    ['assets/main.1a2b3c4d.js', true],
    ['static/js/main.8f3e2a1b.chunk.js', true],
    ['assets/index-DiwrgTda.css', true],
    ['assets/vendor-a1b2c3d4.js', true],
    ['_next/static/chunks/app.js', true],
    ['assets/my-stylesheet.css', false],
    ['components-Dropdown.js', false],
    ['logo.svg', false],
    ['favicon.ico', false],
    ['abcdefgh.js', false],
  ])('%s fingerprinted: %s', (path, expected) => expect(isFingerprinted(path)).toBe(expected));

  it('chooses by type and name', () => {
    expect(cacheControlFor('index.html', 'text/html; charset=utf-8')).toBe(CACHE_HTML);
    expect(cacheControlFor('page.1a2b3c4d.html', 'text/html')).toBe(CACHE_HTML);
    expect(cacheControlFor('a.1a2b3c4d.js', 'text/javascript')).toBe(CACHE_IMMUTABLE);
    expect(cacheControlFor('robots.txt', 'text/plain')).toBe(CACHE_SHORT);
  });
});

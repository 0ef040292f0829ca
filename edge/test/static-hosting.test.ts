import { productionHost } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, type SiteFile } from './support/deployments.js';
import { rawRequest } from './support/http-client.js';
import { ROOT_DOMAIN, startTestStack, type TestStack } from './support/test-stack.js';

const HOST = productionHost('docs-site', ROOT_DOMAIN);
const SPA_HOST = productionHost('spa-site', ROOT_DOMAIN);

const html = (name: string) => `<!doctype html><title>${name}</title><p>${name}</p>`;
const tenKb = 'abcdefghij'.repeat(1024);
const large = new Uint8Array(600 * 1024).map((_, i) => (i * 7) % 251);

const FILES: SiteFile[] = [
  { path: 'index.html', body: html('home') },
  { path: 'about.html', body: html('about') },
  { path: 'docs/index.html', body: html('docs index') },
  { path: 'docs/guide.html', body: html('guide') },
  { path: 'docs/deep/index.html', body: html('deep') },
  { path: 'posts/2024/hello.html', body: html('post hello') },
  { path: 'blog/404.html', body: html('blog not found') },
  { path: '404.html', body: html('site not found') },
  { path: 'assets/app.1a2b3c4d.js', body: 'console.log("app")' },
  { path: 'assets/index-DiwrgTda.css', body: 'body{}' },
  { path: 'logo.svg', body: '<svg xmlns="http://www.w3.org/2000/svg"/>' },
  { path: 'data.json', body: '{"ok":true}', contentType: 'application/vnd.custom+json' },
  { path: 'ten.txt', body: tenKb },
  { path: 'large.bin', body: large },
];

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
  await stack.deploy([HOST], {
    files: FILES,
    redirects: [
      { from: '/old-page', to: '/about', status: 301, force: false },
      { from: '/temp', to: '/about', status: 302, force: false },
      { from: '/moved', to: '/about', status: 307, force: false },
      { from: '/perm', to: '/about', status: 308, force: false },
      { from: '/blog/:year/:slug', to: '/posts/:year/:slug', status: 301, force: false },
      { from: '/news/*', to: '/blog/:splat', status: 302, force: false },
      { from: '/app/*', to: '/index.html', status: 200, force: false },
      { from: '/alias/:year/:slug', to: '/posts/:year/:slug', status: 200, force: false },
      { from: '/about', to: '/docs', status: 301, force: false },
      { from: '/docs/guide', to: '/about', status: 302, force: true },
      { from: '/go/*', to: '/:splat', status: 302, force: false },
      { from: '/external', to: 'https://example.com/landing', status: 301, force: false },
      { from: '/escape/*', to: '/../../secret/:splat', status: 200, force: false },
    ],
    headers: [
      { pattern: '/*', headers: { 'X-Frame-Options': 'DENY', ETag: '"forged"', 'Content-Length': '1' } },
      { pattern: '/assets/*', headers: { 'X-Asset': 'yes' } },
      { pattern: '/docs/:page', headers: { 'X-Doc': 'page', 'X-Frame-Options': 'SAMEORIGIN' } },
    ],
  });
  await stack.deploy([SPA_HOST], {
    files: [
      { path: 'index.html', body: html('spa shell') },
      { path: 'assets/app.js', body: 'spa()' },
    ],
  });
});
afterAll(async () => {
  await stack?.stop();
});

const get = (path: string, headers: Record<string, string> = {}, method = 'GET', host = HOST) =>
  rawRequest(stack.edge.url, { host, path, method, headers });

describe('index and clean URLs', () => {
  it.each([
    ['/', 'home'],
    ['/about', 'about'],
    ['/docs', 'docs index'],
    ['/docs/guide', 'about'], // forced rule wins over the file, see below
    ['/docs/deep', 'deep'],
    ['/posts/2024/hello', 'post hello'],
  ])('%s serves the page', async (path, text) => {
    const res = await get(path);
    if (path === '/docs/guide') {
      expect(res.status).toBe(302);
      return;
    }
    expect(res.status).toBe(200);
    expect(res.body.toString()).toContain(text);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it.each([
    ['/about.html', '/about'],
    ['/about/', '/about'],
    ['/about.html?ref=nav', '/about?ref=nav'],
    ['/index.html', '/'],
    ['/docs/', '/docs'],
    ['/docs/index.html', '/docs'],
    ['/docs/deep/', '/docs/deep'],
    ['/assets/app.1a2b3c4d.js/', '/assets/app.1a2b3c4d.js'],
  ])('%s redirects 308 to its canonical URL %s', async (path, location) => {
    const res = await get(path);
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe(location);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('does not redirect a trailing slash that resolves nowhere', async () => {
    const res = await get('/nothing-here/');
    expect(res.status).toBe(404);
  });
});

describe('missing paths', () => {
  it.each([
    ['/missing', 'site not found'],
    ['/blog/missing', 'blog not found'],
    ['/blog/deeper/still/missing', 'blog not found'],
    ['/assets/missing.js', 'site not found'],
  ])('%s serves the nearest 404.html with 404', async (path, text) => {
    const res = await get(path, { accept: 'text/html' });
    expect(res.status).toBe(404);
    expect(res.body.toString()).toContain(text);
    expect(res.headers.etag).toBeUndefined();
  });

  it('falls back to index.html for SPA navigations only', async () => {
    const nav = await get(
      '/dashboard/settings',
      { accept: 'text/html,application/xhtml+xml' },
      'GET',
      SPA_HOST,
    );
    expect(nav.status).toBe(200);
    expect(nav.body.toString()).toContain('spa shell');
    const dotted = await get('/users/jane.doe', { accept: 'text/html' }, 'GET', SPA_HOST);
    expect(dotted.status).toBe(200);
    const script = await get('/assets/missing.js', { accept: 'text/html' }, 'GET', SPA_HOST);
    expect(script.status).toBe(404);
    const image = await get('/img/logo.png', { accept: 'image/avif,image/webp,*/*' }, 'GET', SPA_HOST);
    expect(image.status).toBe(404);
    const api = await get('/dashboard/settings', { accept: 'application/json' }, 'GET', SPA_HOST);
    expect(api.status).toBe(404);
    expect(api.body.toString()).toContain('This page could not be found');
  });
});

describe('_redirects', () => {
  it.each([
    ['/old-page', 301, '/about'],
    ['/temp', 302, '/about'],
    ['/moved', 307, '/about'],
    ['/perm', 308, '/about'],
    ['/blog/2024/hello', 301, '/posts/2024/hello'],
    ['/news/a/b', 302, '/blog/a/b'],
    ['/news/a?page=2', 302, '/blog/a?page=2'],
    ['/external', 301, 'https://example.com/landing'],
    ['/docs/guide', 302, '/about'],
    ['/go//evil.example', 302, '/evil.example'],
    ['/go/%2F%2Fevil.example', 400, undefined],
    ['/go/%5Cevil.example', 400, undefined],
  ])('%s → %i %s', async (path, status, location) => {
    const res = await get(path);
    expect(res.status).toBe(status);
    expect(res.headers.location).toBe(location);
  });

  it('lets a static file shadow a rule that is not forced', async () => {
    const res = await get('/about');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toContain('about');
  });

  it('serves 200 rewrites from the deployment, with placeholders and splats', async () => {
    const spa = await get('/app/some/route');
    expect(spa.status).toBe(200);
    expect(spa.body.toString()).toContain('home');
    const alias = await get('/alias/2024/hello');
    expect(alias.status).toBe(200);
    expect(alias.body.toString()).toContain('post hello');
  });

  it('never lets a rewrite escape the deployment', async () => {
    const res = await get('/escape/anything');
    expect(res.status).toBe(404);
  });
});

describe('_headers', () => {
  it('applies matching rules in order, never over protected headers', async () => {
    const asset = await get('/assets/app.1a2b3c4d.js');
    expect(asset.headers['x-frame-options']).toBe('DENY');
    expect(asset.headers['x-asset']).toBe('yes');
    expect(asset.headers.etag).toBe(`"${sha256('console.log("app")')}"`);
    expect(asset.headers['content-length']).toBe(String('console.log("app")'.length));
    const doc = await get('/docs/deep');
    expect(doc.headers['x-doc']).toBe('page');
    expect(doc.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect((await get('/')).headers['x-doc']).toBeUndefined();
  });
});

describe('conditional requests, HEAD and ranges', () => {
  const etag = `"${sha256(tenKb)}"`;

  it('uses the content hash as ETag and answers If-None-Match with 304', async () => {
    const first = await get('/ten.txt');
    expect(first.headers.etag).toBe(etag);
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await get('/ten.txt', { 'if-none-match': header });
      expect(res.status).toBe(304);
      expect(res.body.length).toBe(0);
      expect(res.headers.etag).toBe(etag);
    }
    expect((await get('/ten.txt', { 'if-none-match': '"stale"' })).status).toBe(200);
  });

  it('answers HEAD with headers only', async () => {
    const res = await get('/ten.txt', {}, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect(res.headers['content-length']).toBe('10240');
    expect(res.headers.etag).toBe(etag);
  });

  it.each([
    ['bytes=0-99', 0, 99],
    ['bytes=10200-', 10200, 10239],
    ['bytes=-40', 10200, 10239],
    ['bytes=10000-99999', 10000, 10239],
  ])('%s → 206', async (range, start, end) => {
    const res = await get('/ten.txt', { range });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/10240`);
    expect(res.body.toString()).toBe(tenKb.slice(start, end + 1));
  });

  it.each(['bytes=10240-', 'bytes=500-100', 'bytes=abc', 'bytes=-0', 'bytes=-'])(
    '%s → 416',
    async (range) => {
      const res = await get('/ten.txt', { range });
      expect(res.status).toBe(416);
      expect(res.headers['content-range']).toBe('bytes */10240');
    },
  );

  it('serves the whole body for multiple ranges, other units and a stale If-Range', async () => {
    expect((await get('/ten.txt', { range: 'bytes=0-1,5-6' })).status).toBe(200);
    expect((await get('/ten.txt', { range: 'items=0-1' })).status).toBe(200);
    expect((await get('/ten.txt', { range: 'bytes=0-1', 'if-range': '"old"' })).status).toBe(200);
    expect((await get('/ten.txt', { range: 'bytes=0-1', 'if-range': etag })).status).toBe(206);
  });

  it('streams and slices large files, from origin and from the edge cache', async () => {
    for (let i = 0; i < 2; i++) {
      const whole = await get('/large.bin');
      expect(whole.status).toBe(200);
      expect(sha256(whole.body)).toBe(sha256(large));
      const part = await get('/large.bin', { range: 'bytes=524000-524099' });
      expect(part.status).toBe(206);
      expect([...part.body]).toEqual([...large.subarray(524000, 524100)]);
    }
  });
});

describe('response headers', () => {
  it.each([
    ['/', 'public, max-age=0, must-revalidate'],
    ['/about', 'public, max-age=0, must-revalidate'],
    ['/assets/app.1a2b3c4d.js', 'public, max-age=31536000, immutable'],
    ['/assets/index-DiwrgTda.css', 'public, max-age=31536000, immutable'],
    ['/logo.svg', 'public, max-age=60'],
    ['/data.json', 'public, max-age=60'],
  ])('%s has Cache-Control %s', async (path, cacheControl) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe(cacheControl);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('takes Content-Type from the manifest', async () => {
    expect((await get('/data.json')).headers['content-type']).toBe('application/vnd.custom+json');
    expect((await get('/logo.svg')).headers['content-type']).toBe('image/svg+xml');
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('%s gets 405 with Allow', async (method) => {
    const res = await get('/', {}, method);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});

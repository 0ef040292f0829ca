import { blobKey, productionHost } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishDeployment, putObject, sha256 } from './support/deployments.js';
import { rawRequest } from './support/http-client.js';
import { BUCKET, ROOT_DOMAIN, startTestStack, type TestStack } from './support/test-stack.js';

const HOST = productionHost('victim', ROOT_DOMAIN);
const SECRET = 'TOP-SECRET-OTHER-DEPLOYMENT';
const SITE = {
  'index.html': '<p>victim home</p>',
  '404.html': '<p>victim 404</p>',
  'assets/app.js': 'victim()',
};

let stack: TestStack;
let otherDeploymentId = '';

beforeAll(async () => {
  stack = await startTestStack();
  await stack.deploy([HOST], { files: Object.entries(SITE).map(([path, body]) => ({ path, body })) });
  // Another deployment, and loose objects, in the very same buckets: none may ever be served.
  for (const region of stack.regions) {
    const other = await publishDeployment([region.direct], {
      deploymentId: otherDeploymentId || undefined,
      files: [{ path: 'secret.txt', body: SECRET }],
    });
    otherDeploymentId = other.deploymentId;
    await putObject(region.direct, 'secret.txt', SECRET);
    await putObject(region.direct, `deployments/${otherDeploymentId}/secret.txt`, SECRET);
  }
});
afterAll(async () => {
  await stack?.stop();
});

interface Case {
  name: string;
  path: string;
  method?: string;
  host?: string;
  headers?: Record<string, string>;
  /**
   * workerd's HTTP server refuses a few requests before any Worker code runs (an unparsable Host
   * or request target, an unknown method token), answering 500/501 itself. Cloudflare's front
   * line rejects those with 400 in production. These cases check that nothing leaks through.
   */
  rejectedByRuntime?: boolean;
}

const secretHash = sha256(SECRET);
const paths: [string, string][] = [
  ['dot-dot', '/../secret.txt'],
  ['dot-dot twice', '/../../secret.txt'],
  ['encoded dot-dot', '/%2e%2e/secret.txt'],
  ['upper-case encoded dot-dot', '/%2E%2E/%2E%2E/secret.txt'],
  ['half-encoded dot-dot', '/.%2e/secret.txt'],
  ['other half-encoded dot-dot', '/%2e./secret.txt'],
  ['dot-dot encoded slash', '/..%2fsecret.txt'],
  ['dot-dot encoded upper slash', '/..%2Fsecret.txt'],
  ['dot-dot encoded backslash', '/..%5csecret.txt'],
  ['dot-dot encoded upper backslash', '/..%5Csecret.txt'],
  ['all encoded', '/%2e%2e%2fsecret.txt'],
  ['all encoded backslash', '/%2e%2e%5csecret.txt'],
  ['literal backslash', '/..\\secret.txt'],
  ['backslash inside', '/assets\\..\\..\\secret.txt'],
  ['double-encoded dot-dot', '/%252e%252e/secret.txt'],
  ['double-encoded slash', '/%252e%252e%252fsecret.txt'],
  ['NUL before extension', '/index.html%00.txt'],
  ['NUL alone', '/%00'],
  ['NUL in the middle', '/secret.txt%00index.html'],
  ['nested encoded traversal', '/assets/..%2f..%2fsecret.txt'],
  ['double slash', '//secret.txt'],
  ['triple slash then dot-dot', '///../secret.txt'],
  ['dot segment', '/./index.html'],
  ['encoded dot segment', '/%2e/index.html'],
  ['blob key', `/${blobKey(secretHash)}`],
  ['other manifest', `/deployments/${'x'.repeat(24)}/manifest.json`],
  ['bucket name', `/${BUCKET}/secret.txt`],
  ['overlong UTF-8 dots', '/%c0%ae%c0%ae/secret.txt'],
  ['overlong 3-byte dots', '/%e0%80%ae%e0%80%ae/secret.txt'],
  ['overlong UTF-8 slash', '/..%c0%afsecret.txt'],
  ['invalid UTF-8', '/%ff'],
  ['lone percent', '/%'],
  ['bad hex', '/%zz'],
  ['IIS unicode escape', '/%u002e%u002e/secret.txt'],
  ['unicode two-dot leader', '/%E2%80%A5/secret.txt'],
  ['overlong path', `/${'a'.repeat(5000)}`],
  ['very deep path', `/${'a/'.repeat(1500)}`],
  ['prototype key constructor', '/constructor'],
  ['prototype key __proto__', '/__proto__'],
  ['prototype path', '/__proto__/polluted'],
  ['prototype method', '/hasOwnProperty'],
  ['traversal in query', '/index.html?../../secret.txt'],
  ['traversal after fragment', '/index.html#/../../secret.txt'],
  ['encoded leading slash', '/%2fsecret.txt'],
  ['encoded leading backslash', '/%5csecret.txt'],
  ['semicolon segment', '/;/../secret.txt'],
  ['tomcat-style dot-dot', '/..;/secret.txt'],
  ['path parameter', '/index.html;.txt'],
  ['control character', '/index%0d%0aSet-Cookie:%20x=1'],
];

const CASES: Case[] = [
  ...paths.map(([name, path]) => ({ name, path })),
  { name: 'unsupported method TRACE', path: '/', method: 'TRACE' },
  { name: 'WebDAV method', path: '/secret.txt', method: 'PROPFIND' },
  { name: 'made-up method', path: '/index.html', method: 'FOO', rejectedByRuntime: true },
  { name: 'DELETE', path: '/index.html', method: 'DELETE' },
  { name: 'host with trailing dot', path: '/', host: `${HOST}.` },
  { name: 'host with odd port', path: '/', host: `${HOST}:99999`, rejectedByRuntime: true },
  { name: 'host with a path', path: '/', host: `${HOST}/../other`, rejectedByRuntime: true },
  { name: 'host with userinfo', path: '/', host: `user@${HOST}`, rejectedByRuntime: true },
  { name: 'absolute-form target', path: 'http://evil.example/../secret.txt', rejectedByRuntime: true },
  {
    name: 'absolute-form target for another host',
    path: `http://other.${ROOT_DOMAIN}/index.html`,
    rejectedByRuntime: true,
  },
  { name: 'empty host', path: '/', host: '' },
  { name: 'huge range number', path: '/assets/app.js', headers: { range: 'bytes=-99999999999999999999' } },
  { name: 'many ranges', path: '/assets/app.js', headers: { range: `bytes=${'0-0,'.repeat(2000)}0-0` } },
  { name: 'huge If-None-Match', path: '/', headers: { 'if-none-match': `"${'a'.repeat(8000)}"` } },
  { name: 'geo header out of range', path: '/', headers: { 'x-deploysphere-geo': '999,-999' } },
  { name: 'geo header garbage', path: '/', headers: { 'x-deploysphere-geo': 'NaN,Infinity' } },
  { name: 'accept header flood', path: '/missing', headers: { accept: 'text/html,'.repeat(800) } },
];

describe('hostile paths, methods and headers', () => {
  it('has at least 40 cases that reach the worker', () => {
    expect(CASES.filter((c) => !c.rejectedByRuntime).length).toBeGreaterThanOrEqual(40);
  });

  const allowedBodies = new Set([...Object.values(SITE), '']);

  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: no 5xx, nothing from outside the deployment',
    async (_name, c) => {
      const res = await rawRequest(stack.edge.url, {
        host: c.host ?? HOST,
        path: c.path,
        method: c.method ?? 'GET',
        headers: c.headers ?? {},
      });
      if (c.rejectedByRuntime) {
        // The worker always sets nosniff: its absence shows the runtime answered without running it.
        expect(res.headers['x-content-type-options']).toBeUndefined();
      } else {
        expect(res.status).toBeLessThan(500);
      }
      const body = res.body.toString('latin1');
      expect(body).not.toContain(SECRET);
      expect(res.headers['set-cookie']).toBeUndefined();
      if (res.status === 200 || res.status === 206) {
        const served = res.status === 206 ? SITE['assets/app.js'] : body;
        expect(allowedBodies.has(served)).toBe(true);
      }
      if (typeof res.headers.location === 'string') expect(res.headers.location).not.toMatch(/^\/\/|^\/\\/);
    },
  );
});

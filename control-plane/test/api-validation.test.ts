import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app-harness.js';

// Every bad request gets a 4xx that names the field, and writes nothing. The app runs on real
// services (PostgreSQL, NATS, chDB, KV), started once for the file and called with `inject`; local
// repos are disallowed, as in production, so the URL policy is exercised too.

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ ALLOW_LOCAL_REPOS: 'false' });
  const created = await t.api('POST', '/projects', {
    slug: 'taken',
    repoUrl: 'https://example.com/acme/site.git',
    regions: ['us-east-1'],
  });
  expect(created.status).toBe(201);
});
afterAll(async () => {
  await t?.stop();
});

const good = { slug: 'fresh-site', repoUrl: 'https://example.com/acme/site.git', regions: ['eu-west-1'] };
const quick = {
  repoUrl: 'https://example.com/acme/site.git',
  installCommand: 'npm ci',
  buildCommand: 'npm run build',
  slug: 'quick-site',
  region: 'us-east-1',
};

type Case = [name: string, method: string, path: string, body: unknown, status: number, field: string];

const cases: Case[] = [
  // slugs
  ['slug too short', 'POST', '/projects', { ...good, slug: 'ab' }, 400, 'slug'],
  ['slug too long', 'POST', '/projects', { ...good, slug: 'a'.repeat(41) }, 400, 'slug'],
  ['slug with uppercase', 'POST', '/projects', { ...good, slug: 'MySite' }, 400, 'slug'],
  ['slug with a leading hyphen', 'POST', '/projects', { ...good, slug: '-site' }, 400, 'slug'],
  ['slug with a trailing hyphen', 'POST', '/projects', { ...good, slug: 'site-' }, 400, 'slug'],
  ['slug with a double hyphen', 'POST', '/projects', { ...good, slug: 'my--site' }, 400, 'slug'],
  ['reserved slug', 'POST', '/projects', { ...good, slug: 'admin' }, 400, 'slug'],
  ['slug already taken', 'POST', '/projects', { ...good, slug: 'taken' }, 409, 'slug'],
  ['slug with a dot', 'POST', '/projects', { ...good, slug: 'my.site' }, 400, 'slug'],
  // repository URLs
  ['http URL', 'POST', '/projects', { ...good, repoUrl: 'http://example.com/a/b.git' }, 400, 'repoUrl'],
  [
    'file URL in production mode',
    'POST',
    '/projects',
    { ...good, repoUrl: 'file:///srv/repo' },
    400,
    'repoUrl',
  ],
  ['loopback host', 'POST', '/projects', { ...good, repoUrl: 'https://127.0.0.1/a/b.git' }, 400, 'repoUrl'],
  ['private host', 'POST', '/projects', { ...good, repoUrl: 'https://10.0.0.5/a/b.git' }, 400, 'repoUrl'],
  ['localhost', 'POST', '/projects', { ...good, repoUrl: 'git@localhost:a/b.git' }, 400, 'repoUrl'],
  [
    'option injection',
    'POST',
    '/projects',
    { ...good, repoUrl: '--upload-pack=touch /tmp/x' },
    400,
    'repoUrl',
  ],
  [
    'credentials in URL',
    'POST',
    '/projects',
    { ...good, repoUrl: 'https://u:p@example.com/a.git' },
    400,
    'repoUrl',
  ],
  [
    'ext transport',
    'POST',
    '/projects',
    { ...good, repoUrl: 'ext::sh -c touch% /tmp/pwned' },
    400,
    'repoUrl',
  ],
  // git refs
  ['ref starting with a dash', 'POST', '/projects', { ...good, gitRef: '-rf' }, 400, 'gitRef'],
  ['ref with ..', 'POST', '/projects', { ...good, gitRef: 'a..b' }, 400, 'gitRef'],
  ['ref with a space', 'POST', '/projects', { ...good, gitRef: 'a b' }, 400, 'gitRef'],
  ['ref on redeploy', 'POST', '/projects/taken/deployments', { gitRef: 'main;rm -rf /' }, 400, 'gitRef'],
  // regions
  ['no regions', 'POST', '/projects', { ...good, regions: [] }, 400, 'regions'],
  ['unknown region', 'POST', '/projects', { ...good, regions: ['mars-north-1'] }, 400, 'regions.0'],
  ['repeated region', 'POST', '/projects', { ...good, regions: ['us-east-1', 'us-east-1'] }, 400, 'regions'],
  ['regions not a list', 'POST', '/projects', { ...good, regions: 'us-east-1' }, 400, 'regions'],
  [
    'quick deploy to an unknown region',
    'POST',
    '/deployments',
    { ...quick, region: 'xx-nowhere-9' },
    400,
    'region',
  ],
  // commands
  [
    'command with a newline',
    'POST',
    '/projects',
    { ...good, buildCommand: 'npm run build\nrm -rf /' },
    400,
    'buildCommand',
  ],
  [
    'command with NUL',
    'POST',
    '/projects',
    { ...good, installCommand: 'npm ci\u0000' },
    400,
    'installCommand',
  ],
  [
    'command over 1 KiB',
    'POST',
    '/projects',
    { ...good, buildCommand: 'x'.repeat(1025) },
    400,
    'buildCommand',
  ],
  ['command of the wrong type', 'POST', '/projects', { ...good, buildCommand: 42 }, 400, 'buildCommand'],
  [
    'cache switch of the wrong type',
    'POST',
    '/projects',
    { ...good, buildCacheEnabled: 'no' },
    400,
    'buildCacheEnabled',
  ],
  [
    'cache switch of the wrong type on patch',
    'PATCH',
    '/projects/taken',
    { buildCacheEnabled: 1 },
    400,
    'buildCacheEnabled',
  ],
  [
    'withoutCache of the wrong type',
    'POST',
    '/projects/taken/deployments',
    { withoutCache: 'yes' },
    400,
    'withoutCache',
  ],
  // directories
  ['absolute outputDir', 'POST', '/projects', { ...good, outputDir: '/etc' }, 400, 'outputDir'],
  ['outputDir escaping', 'POST', '/projects', { ...good, outputDir: 'dist/../../..' }, 400, 'outputDir'],
  ['rootDir escaping', 'POST', '/projects', { ...good, rootDir: '../other' }, 400, 'rootDir'],
  // env
  ['env key with a dash', 'POST', '/projects', { ...good, env: { 'BAD-KEY': 'v' } }, 400, 'env.BAD-KEY'],
  ['env key starting with a digit', 'POST', '/projects', { ...good, env: { '1KEY': 'v' } }, 400, 'env.1KEY'],
  ['env value not a string', 'POST', '/projects', { ...good, env: { KEY: 42 } }, 400, 'env.KEY'],
  ['env value too large', 'POST', '/projects', { ...good, env: { KEY: 'v'.repeat(9000) } }, 400, 'env.KEY'],
  // types and missing fields
  ['slug of the wrong type', 'POST', '/projects', { ...good, slug: 42 }, 400, 'slug'],
  ['missing slug', 'POST', '/projects', { repoUrl: good.repoUrl, regions: good.regions }, 400, 'slug'],
  ['missing repoUrl', 'POST', '/projects', { slug: 'no-url', regions: good.regions }, 400, 'repoUrl'],
  ['missing regions', 'POST', '/projects', { slug: 'no-regions', repoUrl: good.repoUrl }, 400, 'regions'],
  ['body is a list', 'POST', '/projects', [good], 400, 'body'],
  ['body is not JSON', 'POST', '/projects', '{"slug":', 400, 'body'],
  [
    'quick deploy with a multi-line command',
    'POST',
    '/deployments',
    { ...quick, installCommand: 'npm ci\nnpm test' },
    400,
    'installCommand',
  ],
  // unknown fields
  ['unknown field', 'POST', '/projects', { ...good, admin: true }, 400, 'admin'],
  [
    'unknown field on quick deploy',
    'POST',
    '/deployments',
    { ...quick, privileged: true },
    400,
    'privileged',
  ],
  ['unknown field on patch', 'PATCH', '/projects/taken', { slug: 'renamed' }, 400, 'slug'],
  // oversize body
  ['oversize body', 'POST', '/projects', { ...good, env: { A: 'x'.repeat(300 * 1024) } }, 413, ''],
  // unknown resources
  [
    'promote an unknown deployment',
    'POST',
    '/projects/taken/promote',
    { deploymentId: 'a'.repeat(24) },
    404,
    'deploymentId',
  ],
  [
    'promote with a malformed id',
    'POST',
    '/projects/taken/promote',
    { deploymentId: '../../x' },
    400,
    'deploymentId',
  ],
  ['deploy an unknown project', 'POST', '/projects/nope-nope/deployments', {}, 404, 'slug'],
  ['cancel an unknown deployment', 'POST', `/deployments/${'b'.repeat(24)}/cancel`, undefined, 404, 'id'],
];

async function counts() {
  const [projects, deployments, envVars] = await Promise.all([
    t.db.project.count(),
    t.db.deployment.count(),
    t.db.envVar.count(),
  ]);
  return { projects, deployments, envVars };
}

describe('bad requests', () => {
  it(`has at least 30 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('%s', async (_name, method, path, body, status, field) => {
    const before = await counts();
    const res = await t.api<{ error: { code: string; message: string; field?: string } }>(method, path, body);
    expect(res.status).toBe(status);
    expect(res.body.error.message).toBeTruthy();
    if (field) expect(res.body.error.field).toBe(field);
    if (status === 400) expect(res.body.error.message).toContain(field);
    expect(await counts()).toEqual(before);
  });

  it('refuses every /api/v1 route without the token', async () => {
    for (const path of ['/projects', '/regions', `/deployments/${'c'.repeat(24)}`]) {
      const res = await t.app.inject(`/api/v1${path}`);
      expect(res.statusCode).toBe(401);
    }
  });
});

describe('projects API', () => {
  it('creates with defaults, keeps env values write-only, updates and deletes', async () => {
    const created = await t.api<Record<string, unknown>>('POST', '/projects', {
      slug: 'crud-site',
      repoUrl: 'https://example.com/acme/crud.git',
      regions: ['eu-west-1', 'us-east-1'],
      env: { API_KEY: 'top-secret-value' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      slug: 'crud-site',
      // Unset: the build detects the framework and runs its preset's commands.
      installCommand: null,
      buildCommand: null,
      buildCacheEnabled: true,
      gitRef: null,
      outputDir: null,
      regions: ['eu-west-1', 'us-east-1'],
      envKeys: ['API_KEY'],
      url: expect.stringMatching(/^http:\/\/crud-site\.localhost:\d+$/),
    });
    expect(JSON.stringify(created.body)).not.toContain('top-secret-value');
    const stored = await t.db.envVar.findFirstOrThrow({ where: { key: 'API_KEY' } });
    expect(stored.ciphertext).not.toContain('top-secret-value');

    const patched = await t.api<Record<string, unknown>>('PATCH', '/projects/crud-site', {
      buildCommand: 'npm run export',
      env: { API_KEY: null, OTHER: 'x' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ buildCommand: 'npm run export', envKeys: ['OTHER'] });
    // '' skips the phase, null goes back to the detected preset's command; the cache switch.
    const skip = await t.api<Record<string, unknown>>('PATCH', '/projects/crud-site', {
      installCommand: '  ',
      buildCommand: null,
      buildCacheEnabled: false,
    });
    expect(skip.status).toBe(200);
    expect(skip.body).toMatchObject({ installCommand: '', buildCommand: null, buildCacheEnabled: false });

    const list = await t.api<{ slug: string }[]>('GET', '/projects');
    expect(list.body.map((p) => p.slug)).toContain('crud-site');
    // The availability check: 200 with [] for a free slug, never a 404.
    expect((await t.api<unknown[]>('GET', '/projects?slug=crud-site')).body).toHaveLength(1);
    expect(await t.api('GET', '/projects?slug=still-free')).toEqual({ status: 200, body: [] });
    expect((await t.api('DELETE', '/projects/crud-site')).status).toBe(204);
    expect((await t.api('GET', '/projects/crud-site')).status).toBe(404);
    expect(await t.db.envVar.count({ where: { key: 'OTHER' } })).toBe(0);
  });
});

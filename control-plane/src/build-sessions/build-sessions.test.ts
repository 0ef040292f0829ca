import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import { archiveKey, branchIndexKey, metaKey } from '@deploysphere/build-worker/cache-keys';
import {
  BootstrapResponseSchema,
  BUILD_SESSION_PATHS,
  subjects,
  manifestKey,
  CacheRestoreResponseSchema,
  CacheSaveResponseSchema,
  UploadGrantsResponseSchema,
  type BuildSpec,
  type PresignedRequest,
  type StorageTarget,
} from '@deploysphere/contracts';
import { startS3rver, S3RVER_CREDENTIALS, type EmbeddedS3 } from '@deploysphere/stack';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTestId, startPipelineHarness, type PipelineHarness } from '../../test/pipeline-harness.js';
import { errorHandler } from '../plugins/error-handler.js';
import { zodSchemas } from '../plugins/zod-schemas.js';
import { LocalRunner } from '../pipeline/local-runner.js';
import { buildSpecFor } from '../pipeline/build-spec.js';
import { ensureStreams, lastEventSeqInStream } from '../pipeline/streams.js';
import { buildSessionRoutes } from './build-session-routes.js';
import { BuildSessionService } from './build-session-service.js';
import { cacheNamespace, StorageGrants } from './storage-grants.js';

// The build session's trust boundary on real PostgreSQL, NATS and s3rver, through the routes the
// worker calls: what a token may do, and what exactly each grant signs.

let h: PipelineHarness;
let dir: string;
let s3: EmbeddedS3;
let target: StorageTarget;
let app: FastifyInstance;
let sessions: BuildSessionService;
let expiredSessions: BuildSessionService;
/** Its first look at the events stream fails, as with NATS briefly away. */
let flakySessions: BuildSessionService;
const client = () => createS3Client(target);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-sessions-'));
  [h, s3] = await Promise.all([
    startPipelineHarness(),
    startS3rver({ directory: join(dir, 's3'), buckets: ['sites'] }),
  ]);
  target = {
    region: 'us-east-1',
    endpoint: s3.endpoint,
    bucket: 'sites',
    forcePathStyle: true,
    ...S3RVER_CREDENTIALS,
  };
  const s3client = createS3Client(target);
  const grants = new StorageGrants({
    bucketFor: (region) => (region === 'us-east-1' ? { client: s3client, bucket: 'sites' } : undefined),
  });
  const deps = {
    db: h.db,
    grants,
    specFor: (id: string) => specFor(id),
    signer: h.nats.signer,
    credentialsTtlMs: 60_000,
    lastPublishedEventSeq: async (id: string) => lastEventSeqInStream(await jetstreamManager(h.nc), id),
  };
  sessions = new BuildSessionService(deps);
  expiredSessions = new BuildSessionService({ ...deps, bootstrapTtlMs: -1 });
  let failures = 0;
  flakySessions = new BuildSessionService({
    ...deps,
    lastPublishedEventSeq: async (id: string) => {
      if (failures++ === 0) throw new Error('NATS is briefly unreachable');
      return deps.lastPublishedEventSeq(id);
    },
  });
  app = Fastify({ logger: false });
  await app.register(zodSchemas);
  await app.register(errorHandler);
  await app.register(buildSessionRoutes, { sessions });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await s3?.stop();
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The spec as the pipeline's specFor gives it, here with the storage settings a control plane has. */
/** The pipeline's own spec, with this test's storage target and a known env. */
const specFor = (id: string): Promise<BuildSpec> =>
  buildSpecFor(
    { db: h.db, storageTarget: () => target, envFor: async () => ({ API_KEY: 'project-secret' }) },
    id,
  );

/** A building deployment of a fresh project. */
async function building(opts: { lastEventSeq?: number; gitRef?: string; projectId?: string } = {}) {
  const project = opts.projectId
    ? await h.db.project.findUniqueOrThrow({
        where: { id: opts.projectId },
        select: { id: true, slug: true },
      })
    : await h.project();
  const id = newTestId();
  await h.state.create({ id, projectId: project.id, regions: ['us-east-1'], gitRef: opts.gitRef ?? null });
  expect(await h.state.claim(id)).toBe('claimed');
  if (opts.lastEventSeq)
    await h.db.deployment.update({ where: { id }, data: { lastEventSeq: opts.lastEventSeq } });
  return { id, slug: project.slug, projectId: project.id };
}

function post(url: string, token: string | undefined, body?: unknown) {
  return app.inject({
    method: 'POST',
    url,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

async function bootstrap(id: string) {
  const res = await post(BUILD_SESSION_PATHS.bootstrap, await sessions.issueBootstrap(id));
  expect(res.statusCode, res.body).toBe(200);
  return BootstrapResponseSchema.parse(res.json());
}

/** A bootstrapped build of an existing project (whose earlier builds must have finished). */
function bootstrappedIn(projectId: string, gitRef?: string) {
  return bootstrapped({ projectId, ...(gitRef ? { gitRef } : {}) });
}

async function bootstrapped(opts: Parameters<typeof building>[0] = {}) {
  const d = await building(opts);
  const token = await sessions.issueBootstrap(d.id);
  const res = await post(BUILD_SESSION_PATHS.bootstrap, token);
  expect(res.statusCode, res.body).toBe(200);
  return { ...d, session: BootstrapResponseSchema.parse(res.json()) };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function signedHeaders(req: PresignedRequest): string[] {
  return new URL(req.url).searchParams.get('X-Amz-SignedHeaders')!.split(';');
}

async function send(req: PresignedRequest, body: string): Promise<number> {
  const res = await fetch(req.url, { method: req.method, headers: req.headers, body });
  await res.arrayBuffer();
  return res.status;
}

describe('bootstrap', () => {
  it('answers the spec without storage settings, the build NATS user, the next event seq and a build token', async () => {
    const d = await building({ lastEventSeq: 4 });
    const token = await sessions.issueBootstrap(d.id);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await h.db.deployment.findUniqueOrThrow({ where: { id: d.id } });
    // Only a hash (and its expiry) is kept, never the token.
    expect(stored.bootstrapTokenHash).toBe(sha(token));
    expect(stored.bootstrapExpiresAt!.getTime()).toBeGreaterThan(Date.now());

    const res = await post(BUILD_SESSION_PATHS.bootstrap, token);
    expect(res.statusCode, res.body).toBe(200);
    const body = BootstrapResponseSchema.parse(res.json());
    expect(body.spec.deploymentId).toBe(d.id);
    expect(body.spec.env).toEqual({ API_KEY: 'project-secret' });
    expect(body.spec.storage).toEqual([{ region: 'us-east-1' }]);
    for (const leak of ['S3RVER', 'accessKeyId', 'secretAccessKey', s3.endpoint, '"bucket"'])
      expect(res.body).not.toContain(leak);
    expect(body.natsCredentials).toContain('-----BEGIN NATS USER JWT-----');
    expect(body.firstEventSeq).toBe(5);
    const after = await h.db.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(after.bootstrapTokenHash).toBeNull();
    expect(after.buildTokenHash).toBe(sha(body.buildToken));
  });

  it('numbers a restarted attempt after the newest event in the stream, applied or not', async () => {
    // The first attempt published up to seq 7 before Spot reclaimed it; the consumer applied 4.
    const d = await building({ lastEventSeq: 4 });
    await ensureStreams(await jetstreamManager(h.nc));
    const js = jetstream(h.nc);
    for (const seq of [5, 6, 7]) {
      const event = { type: 'heartbeat', deploymentId: d.id, seq, at: new Date().toISOString() };
      await js.publish(subjects.buildEvent(d.id), JSON.stringify(event), { msgID: `${d.id}:${seq}` });
    }
    const res = await post(BUILD_SESSION_PATHS.bootstrap, await sessions.issueBootstrap(d.id));
    expect(res.statusCode, res.body).toBe(200);
    // Starting at 5 would collide with the first attempt's message ids, and JetStream would drop them.
    expect(BootstrapResponseSchema.parse(res.json()).firstEventSeq).toBe(8);
  });

  it('does not spend the token when the exchange fails part-way, so the retry succeeds', async () => {
    const d = await building();
    const token = await sessions.issueBootstrap(d.id);
    await expect(flakySessions.bootstrap(token)).rejects.toThrow('NATS is briefly unreachable');
    const retried = await flakySessions.bootstrap(token);
    expect(retried.spec.deploymentId).toBe(d.id);
    await expect(flakySessions.bootstrap(token)).rejects.toMatchObject({ status: 401 });
  });

  it('works once: a reused, unknown or expired token is 401 with a stable code', async () => {
    const d = await building();
    const token = await sessions.issueBootstrap(d.id);
    expect((await post(BUILD_SESSION_PATHS.bootstrap, token)).statusCode).toBe(200);
    const reused = await post(BUILD_SESSION_PATHS.bootstrap, token);
    expect(reused.statusCode).toBe(401);
    expect(reused.json().error.code).toBe('bootstrap_token_invalid');
    const unknown = await post(BUILD_SESSION_PATHS.bootstrap, randomBytes(32).toString('base64url'));
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([401, 'bootstrap_token_invalid']);
    expect((await post(BUILD_SESSION_PATHS.bootstrap, undefined)).statusCode).toBe(401);

    const e = await building();
    const expired = await expiredSessions.issueBootstrap(e.id);
    const late = await post(BUILD_SESSION_PATHS.bootstrap, expired);
    expect([late.statusCode, late.json().error.code]).toEqual([401, 'bootstrap_token_invalid']);
  });

  it('two exchanges of one token at once: exactly one wins', async () => {
    const d = await building();
    const token = await sessions.issueBootstrap(d.id);
    const codes = await Promise.all(
      Array.from({ length: 5 }, () => post(BUILD_SESSION_PATHS.bootstrap, token).then((r) => r.statusCode)),
    );
    expect(codes.sort()).toEqual([200, 401, 401, 401, 401]);
  });

  it('issuing again replaces the earlier token (a requeued attempt gets its own)', async () => {
    const d = await building();
    const first = await sessions.issueBootstrap(d.id);
    const second = await sessions.issueBootstrap(d.id);
    expect((await post(BUILD_SESSION_PATHS.bootstrap, first)).statusCode).toBe(401);
    expect((await post(BUILD_SESSION_PATHS.bootstrap, second)).statusCode).toBe(200);
  });

  it('is 409 once the deployment is no longer building', async () => {
    const d = await building();
    const token = await sessions.issueBootstrap(d.id);
    await h.state.fail(d.id, 'stopped for the test');
    const res = await post(BUILD_SESSION_PATHS.bootstrap, token);
    expect([res.statusCode, res.json().error.code]).toEqual([409, 'deployment_not_building']);
    await expect(sessions.issueBootstrap(d.id)).rejects.toMatchObject({ status: 409 });
  });
});

describe('grants', () => {
  const blob = { hash: sha('<h1>hi</h1>'), size: 11, contentType: 'text/html; charset=utf-8' };

  it("refuses a missing token, another deployment's token, and a token after the deployment ended", async () => {
    const a = await bootstrapped();
    const b = await bootstrapped();
    const body = { blobs: [blob] };
    const none = await post(BUILD_SESSION_PATHS.uploadGrants(a.id), undefined, body);
    expect([none.statusCode, none.json().error.code]).toEqual([401, 'build_token_invalid']);
    const forged = await post(
      BUILD_SESSION_PATHS.uploadGrants(a.id),
      randomBytes(32).toString('base64url'),
      body,
    );
    expect(forged.statusCode).toBe(401);
    // A's token for B's deployment, on every grant route.
    for (const [url, payload] of [
      [BUILD_SESSION_PATHS.uploadGrants(b.id), body],
      [BUILD_SESSION_PATHS.cacheRestore(b.id), { key: sha('k') }],
      [BUILD_SESSION_PATHS.cacheSave(b.id), { key: sha('k'), compression: 'zst', parts: ['home'] }],
    ] as const) {
      const res = await post(url, a.session.buildToken, payload);
      expect([res.statusCode, res.json().error.code], url).toEqual([403, 'build_token_wrong_deployment']);
    }
    // Its own deployment, while building: granted.
    expect((await post(BUILD_SESSION_PATHS.uploadGrants(a.id), a.session.buildToken, body)).statusCode).toBe(
      200,
    );
    await h.state.fail(a.id, 'stopped for the test');
    const ended = await post(BUILD_SESSION_PATHS.uploadGrants(a.id), a.session.buildToken, body);
    expect([ended.statusCode, ended.json().error.code]).toEqual([409, 'deployment_not_building']);
  });

  it('grants a PUT of blobs/<sha256> with its checksum and If-None-Match signed, and the manifest of its own deployment only', async () => {
    const d = await bootstrapped();
    const res = await post(BUILD_SESSION_PATHS.uploadGrants(d.id), d.session.buildToken, { blobs: [blob] });
    expect(res.statusCode, res.body).toBe(200);
    const grants = UploadGrantsResponseSchema.parse(res.json());
    expect(Date.parse(grants.expiresAt) - Date.now()).toBeLessThanOrEqual(3600_000);
    const [region] = grants.regions;
    expect(region).toMatchObject({ region: 'us-east-1', present: 0 });
    const put = region!.missing[0]!.put;
    const url = new URL(put.url);
    expect(url.pathname).toBe(`/sites/blobs/${blob.hash}`);
    expect(signedHeaders(put)).toEqual(
      expect.arrayContaining(['x-amz-checksum-sha256', 'if-none-match', 'content-type', 'host']),
    );
    const checksum = Buffer.from(blob.hash, 'hex').toString('base64');
    expect(put.headers).toEqual({
      'cache-control': 'public, max-age=31536000, immutable',
      'content-type': blob.contentType,
      'if-none-match': '*',
      'x-amz-checksum-sha256': checksum,
    });
    // Signed as headers: not hoisted into the query, where anything could be sent instead.
    expect(url.searchParams.has('x-amz-checksum-sha256')).toBe(false);
    expect(url.searchParams.has('If-None-Match')).toBe(false);
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(3600);
    // The grant works against S3 with exactly those headers.
    expect(await send(put, '<h1>hi</h1>')).toBe(200);

    const manifest = region!.manifest;
    expect(new URL(manifest.url).pathname).toBe(`/sites/deployments/${d.id}/manifest.json`);
    expect(signedHeaders(manifest)).toContain('content-type');
    expect(await send(manifest, '{}')).toBe(200);

    // Stored now: a second ask grants nothing for it.
    const again = UploadGrantsResponseSchema.parse(
      (await post(BUILD_SESSION_PATHS.uploadGrants(d.id), d.session.buildToken, { blobs: [blob] })).json(),
    );
    expect(again.regions[0]).toMatchObject({ present: 1, missing: [] });
  });

  it('takes the 20,000 blobs of a large site in one request', async () => {
    const d = await bootstrapped();
    const blobs = Array.from({ length: 20_000 }, (_, i) => ({
      hash: sha(`file ${i}`),
      size: 1024,
      contentType: 'text/html; charset=utf-8',
    }));
    const res = await post(BUILD_SESSION_PATHS.uploadGrants(d.id), d.session.buildToken, { blobs });
    expect(res.statusCode).toBe(200);
    expect(UploadGrantsResponseSchema.parse(res.json()).regions[0]!.missing).toHaveLength(20_000);
  }, 120_000);

  it("refuses cache grants when the project's cache is off, and restores for a deployment without cache", async () => {
    const key = sha('lockfile');
    const save = { key, compression: 'zst', parts: ['home'] };
    const off = await building();
    await h.db.project.updateMany({
      where: { deployments: { some: { id: off.id } } },
      data: { buildCacheEnabled: false },
    });
    const offToken = (await bootstrap(off.id)).buildToken;
    for (const [url, body] of [
      [BUILD_SESSION_PATHS.cacheRestore(off.id), { key }],
      [BUILD_SESSION_PATHS.cacheSave(off.id), save],
    ] as const) {
      const res = await post(url, offToken, body);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('build_cache_off');
    }

    const fresh = await building();
    await h.db.deployment.update({ where: { id: fresh.id }, data: { withoutCache: true } });
    const freshToken = (await bootstrap(fresh.id)).buildToken;
    expect((await post(BUILD_SESSION_PATHS.cacheRestore(fresh.id), freshToken, { key })).statusCode).toBe(
      403,
    );
    // "Without cache" still saves a fresh one for the next build.
    expect((await post(BUILD_SESSION_PATHS.cacheSave(fresh.id), freshToken, save)).statusCode).toBe(200);
  });

  it("grants cache reads and writes only under its own project's prefix and its own branch", async () => {
    const d = await bootstrapped({ gitRef: 'feature/x' });
    const key = sha('lockfile');
    // A branch build's caches live in the branch's own namespace under the project.
    const ns = cacheNamespace({ projectSlug: d.slug, productionBranch: '(default branch)' }, 'feature/x');
    expect(ns.startsWith(`${d.slug}/by-branch/`)).toBe(true);
    const save = await post(BUILD_SESSION_PATHS.cacheSave(d.id), d.session.buildToken, {
      key,
      compression: 'zst',
      parts: ['home', 'caches', 'modules', 'modules-1'],
    });
    expect(save.statusCode, save.body).toBe(200);
    const saveGrant = CacheSaveResponseSchema.parse(save.json());
    for (const [part, put] of Object.entries(saveGrant.archives)) {
      expect(new URL(put.url).pathname).toBe(`/sites/${archiveKey(ns, key, part as 'home', 'zst')}`);
      expect(new URL(put.url).pathname.startsWith(`/sites/cache/${d.slug}/`)).toBe(true);
    }
    expect(new URL(saveGrant.meta.url).pathname).toBe(`/sites/${metaKey(ns, key)}`);
    // Its own branch's index, never the production branch's.
    expect(new URL(saveGrant.branchIndex.url).pathname).toBe(`/sites/${branchIndexKey(d.slug, 'feature/x')}`);
    expect(new URL(saveGrant.branchIndex.url).pathname).not.toBe(`/sites/${branchIndexKey(d.slug, 'main')}`);

    // A key or part outside the shapes is refused before anything is signed.
    for (const bad of [
      { key: '../other-project', compression: 'zst', parts: ['home'] },
      { key, compression: 'zst', parts: ['../../blobs/x'] },
      { key, compression: 'rar', parts: ['home'] },
    ]) {
      expect((await post(BUILD_SESSION_PATHS.cacheSave(d.id), d.session.buildToken, bad)).statusCode).toBe(
        400,
      );
    }

    // Saved through the grants: the restore offers it, with GETs under the same prefix.
    expect(await send(saveGrant.archives.home!, 'archive bytes')).toBe(200);
    const meta = {
      v: 1,
      key,
      compression: 'zst',
      savedAt: new Date().toISOString(),
      branch: 'feature/x',
      homeBytes: 13,
      cachesBytes: null,
      modulesBytes: null,
      modulesShards: 1,
      repoPaths: [],
      modulePaths: [],
    };
    expect(await send(saveGrant.meta, JSON.stringify(meta))).toBe(200);
    expect(await send(saveGrant.branchIndex, JSON.stringify({ v: 1, key, savedAt: meta.savedAt }))).toBe(200);
    // Another project's cache under the same key is never offered.
    const c = client();
    await c.send(
      new PutObjectCommand({
        Bucket: 'sites',
        Key: metaKey('someone-else', key),
        Body: JSON.stringify(meta),
      }),
    );
    const restore = CacheRestoreResponseSchema.parse(
      (await post(BUILD_SESSION_PATHS.cacheRestore(d.id), d.session.buildToken, { key })).json(),
    );
    expect(restore.candidates.map((x) => [x.source, x.key])).toEqual([['lockfile', key]]);
    const get = restore.candidates[0]!.archives.home!;
    expect(new URL(get.url).pathname).toBe(`/sites/${archiveKey(ns, key, 'home', 'zst')}`);
    const res = await fetch(get.url);
    expect(await res.text()).toBe('archive bytes');
    expect(new URL(restore.candidates[0]!.touch.url).pathname).toBe(`/sites/${metaKey(ns, key)}`);

    // A miss: no candidate for an unknown key of a project without caches.
    const other = await bootstrapped();
    const miss = await post(BUILD_SESSION_PATHS.cacheRestore(other.id), other.session.buildToken, { key });
    expect(CacheRestoreResponseSchema.parse(miss.json()).candidates).toEqual([]);
    const stored = await c.send(new GetObjectCommand({ Bucket: 'sites', Key: metaKey(ns, key) }));
    expect(JSON.parse(await stored.Body!.transformToString()).branch).toBe('feature/x');
    c.destroy();
  });

  it("never lets a branch build write what a production build restores, and lets it read production's", async () => {
    const key = sha('shared lockfile');
    const branch = await bootstrapped({ gitRef: 'feature/evil' });
    const finish = (d: { id: string }) => h.state.fail(d.id, 'done with it');
    const saveOf = async (d: { id: string; session: { buildToken: string } }) => {
      const res = await post(BUILD_SESSION_PATHS.cacheSave(d.id), d.session.buildToken, {
        key,
        compression: 'zst',
        parts: ['home'],
      });
      expect(res.statusCode, res.body).toBe(200);
      return CacheSaveResponseSchema.parse(res.json());
    };
    const restoreOf = async (d: { id: string; session: { buildToken: string } }) =>
      CacheRestoreResponseSchema.parse(
        (await post(BUILD_SESSION_PATHS.cacheRestore(d.id), d.session.buildToken, { key })).json(),
      ).candidates;
    const meta = (from: string) => ({
      v: 1,
      key,
      compression: 'zst',
      savedAt: new Date().toISOString(),
      branch: from,
      homeBytes: 5,
      cachesBytes: null,
      modulesBytes: null,
      modulesShards: 1,
      repoPaths: [],
      modulePaths: [],
    });

    // The branch saves a (poisoned) cache under the very key production would use.
    const poisoned = await saveOf(branch);
    expect(await send(poisoned.archives.home!, 'evil')).toBe(200);
    expect(await send(poisoned.meta, JSON.stringify(meta('feature/evil')))).toBe(200);
    await finish(branch); // one build per project at a time
    const production = await bootstrappedIn(branch.projectId);
    const prodSave = await saveOf(production);
    for (const part of Object.keys(prodSave.archives)) {
      expect(new URL(prodSave.archives[part]!.url).pathname).not.toBe(
        new URL(poisoned.archives[part]!.url).pathname,
      );
    }
    // Production is offered nothing of it.
    expect(await restoreOf(production)).toEqual([]);

    // Once production saved its own, a branch build may restore it, but records the use only in
    // its own namespace.
    expect(await send(prodSave.archives.home!, 'good')).toBe(200);
    expect(await send(prodSave.meta, JSON.stringify(meta('(default branch)')))).toBe(200);
    await finish(production);
    const later = await bootstrappedIn(branch.projectId, 'feature/evil');
    const offered = await restoreOf(later);
    expect(offered).toHaveLength(2);
    const bodies = await Promise.all(offered.map(async (o) => (await fetch(o.archives.home!.url)).text()));
    expect(bodies).toEqual(['evil', 'good']); // its own first, production's after
    for (const o of offered) expect(new URL(o.touch.url).pathname).toBe(new URL(poisoned.meta.url).pathname);
    await finish(later);
    expect(await restoreOf(await bootstrappedIn(branch.projectId))).toHaveLength(1);
  });
});

/** PIDs whose initial environment holds `needle` (the worker's launch variables). */
async function processesWithEnv(needle: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(needle)) found.push(Number(entry));
  }
  return found;
}

describe('LocalRunner: the one launch path', () => {
  it('starts the worker with only its launch; it bootstraps, uploads through grants, and the token is in no argv or log', async () => {
    await ensureStreams(await jetstreamManager(h.nc));
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const repo = join(dir, 'repo');
    await mkdir(join(repo, 'public'), { recursive: true });
    await writeFile(join(repo, 'public/index.html'), '<h1>launched</h1>');
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: repo,
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@t',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@t',
        },
      });
    git('init', '-q', '--initial-branch=main');
    git('add', '-A');
    git('commit', '-q', '-m', 'site');

    const project = await h.db.project.create({
      data: {
        id: newTestId(),
        slug: `launch-${newTestId().slice(0, 8)}`,
        repoUrl: `file://${repo}`,
        installCommand: '',
        buildCommand: '',
        regions: ['us-east-1'],
      },
    });
    const id = newTestId();
    await h.state.create({ id, projectId: project.id, regions: ['us-east-1'] });
    expect(await h.state.claim(id)).toBe('claimed');
    const workDir = join(dir, 'builds');
    const runner = new LocalRunner({
      natsUrl: h.nats.url,
      controlPlaneUrl: address,
      limits: {
        workDir,
        timeoutMs: 120_000,
        memoryMb: 4096,
        cpuSeconds: 120,
        maxOutputBytes: 1e8,
        maxOutputFiles: 1000,
        allowUnsandboxed: false,
        heartbeatTimeoutMs: 30_000,
      },
    });
    const token = await sessions.issueBootstrap(id);
    const handle = await runner.start({
      deploymentId: id,
      projectSlug: project.slug,
      region: 'us-east-1',
      attempt: 1,
      bootstrapToken: token,
    });
    const pids = await processesWithEnv(`DEPLOYMENT_ID=${id}`);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) {
      const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      expect(argv).not.toContain(token);
      // The launch holds nothing else: no spec, no credentials, no storage settings.
      const environ = (await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '')).split('\0');
      const names = environ.filter(Boolean).map((v) => v.slice(0, v.indexOf('=')));
      expect(names).not.toEqual(expect.arrayContaining(['DEPLOYSPHERE_BUILD_SPEC']));
      expect(names.filter((n) => /CREDS|SECRET|ACCESS_KEY|DATABASE|ADMIN/.test(n))).toEqual([]);
      expect(environ.join('\n')).not.toContain('project-secret');
    }
    const exit = await handle.exited;
    const log = await readFile(join(workDir, `${id}.worker.log`), 'utf8');
    expect(exit, log).toMatchObject({ code: 0 });
    expect(log).not.toContain(token);
    // Uploaded through the grants: the manifest is in the bucket.
    const c = client();
    await c.send(new HeadObjectCommand({ Bucket: 'sites', Key: manifestKey(id) }));
    c.destroy();
    // Used: a second exchange is refused.
    expect((await post(BUILD_SESSION_PATHS.bootstrap, token)).statusCode).toBe(401);
  }, 180_000);
});

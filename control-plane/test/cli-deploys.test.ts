import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  CLI_DEPLOY_ERRORS,
  CliDeployCreatedSchema,
  CliLandedResultSchema,
  DeploymentViewSchema,
  manifestKey,
  ManifestSchema,
  type CliDeployCreated,
  type CliDeployFile,
  type CliLandedResult,
  type DeploymentView,
} from '@deploysphere/contracts';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './gc-harness.js';
import { startTestPlatform, type TestPlatform } from './harness.js';

// Prebuilt deploys through the API on the real local stack: s3rver per region, the state
// machine, the KV switch, and the edge in workerd serving the result.

let t: TestPlatform;

beforeAll(async () => {
  // A short heartbeat timeout, so the watchdog's judgement of a silent upload is seen quickly.
  t = await startTestPlatform({ MAX_OUTPUT_FILES: '300', HEARTBEAT_TIMEOUT_MS: '4000' });
});
afterAll(async () => {
  await t?.stop();
});

type Folder = Record<string, string>;
const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const typeOf = (path: string) =>
  path.endsWith('.html') ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8';

function manifestOf(folder: Folder): Record<string, CliDeployFile> {
  return Object.fromEntries(
    Object.entries(folder).map(([path, text]) => [
      path,
      { hash: sha256(text), size: Buffer.byteLength(text), contentType: typeOf(path) },
    ]),
  );
}

async function create(body: Record<string, unknown>) {
  return t.api<CliDeployCreated & { error?: { code: string; field?: string; message: string } }>(
    'POST',
    '/cli-deploys',
    body,
  );
}

/** PUTs every granted blob with exactly the signed headers, as the CLI does. */
async function upload(created: CliDeployCreated, folder: Folder): Promise<number> {
  const byHash = new Map(Object.values(folder).map((text) => [sha256(text), text]));
  let sent = 0;
  for (const region of created.regions) {
    for (const grant of region.missing) {
      const res = await fetch(grant.put.url, {
        method: 'PUT',
        headers: grant.put.headers,
        body: byHash.get(grant.hash)!,
      });
      expect(res.status, await res.text()).toBe(200);
      sent += 1;
    }
  }
  return sent;
}

async function finalize(id: string) {
  return t.api<DeploymentView & { error?: { code: string; field?: string; message: string } }>(
    'POST',
    `/cli-deploys/${id}/finalize`,
    {},
  );
}

/** A create that must succeed: 201, and the answer as the contract reads it. */
async function created201(body: Record<string, unknown>): Promise<CliDeployCreated> {
  const res = await create(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return CliDeployCreatedSchema.parse(res.body);
}

async function deploy(project: string, folder: Folder, extra: Record<string, unknown> = {}) {
  const created = await created201({ slug: project, files: manifestOf(folder), ...extra });
  await upload(created, folder);
  const done = await finalize(created.deployment.id);
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  return { created, view: DeploymentViewSchema.parse(done.body) };
}

const hostOf = (url: string) => new URL(url).hostname;

/** The edge caches route records briefly: poll until `host` serves `text`, with a deadline. */
async function servedAt(host: string, text: string, path = '/', withinMs = 30_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const res = await t.visit(host, path);
    if (res.body.includes(text)) return;
    if (Date.now() > deadline)
      throw new Error(`${host}${path} still answers ${res.status}: ${res.body.slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('prebuilt deploys (POST /cli-deploys, finalize)', () => {
  const v1: Folder = {
    'index.html': '<h1>cli one</h1>',
    'about/index.html': '<h1>about</h1>',
    'robots.txt': 'User-agent: *',
  };

  it('creates an unknown project by name, with no repository, and previews a folder in two regions', async () => {
    const created = await created201({
      slug: 'cli-site',
      regions: ['us-east-1', 'eu-west-1'],
      files: manifestOf(v1),
    });
    expect(created.projectCreated).toBe(true);
    expect(created.deployment).toMatchObject({
      status: 'building',
      phase: 'upload',
      source: 'cli',
      target: 'preview',
      regions: ['us-east-1', 'eu-west-1'],
    });
    expect(created.regions.map((r) => [r.region, r.present, r.missing.length])).toEqual([
      ['us-east-1', 0, 3],
      ['eu-west-1', 0, 3],
    ]);
    const project = await t.api<{ repoUrl: string; regions: string[] }>('GET', '/projects/cli-site');
    expect(project.body).toMatchObject({ repoUrl: '', regions: ['us-east-1', 'eu-west-1'] });

    expect(await upload(created, v1)).toBe(6);
    const done = await finalize(created.deployment.id);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ status: 'ready', source: 'cli', isProduction: false });

    // Its own host serves it; production does not exist yet (a preview never switches it).
    await servedAt(hostOf(done.body.deploymentUrl), 'about', '/about');
    expect((await t.visit('cli-site.localhost')).status).toBe(404);

    // The manifest is in both regions, written by the control plane.
    for (const region of ['us-east-1', 'eu-west-1']) {
      const target = t.platform.config.storage.find((s) => s.region === region)!;
      const s3 = createS3Client(target);
      const obj = await s3.send(
        new GetObjectCommand({ Bucket: target.bucket, Key: manifestKey(created.deployment.id) }),
      );
      const manifest = ManifestSchema.parse(JSON.parse(await obj.Body!.transformToString()));
      expect(Object.keys(manifest.files).sort()).toEqual(Object.keys(v1).sort());
      s3.destroy();
    }

    // A Git deployment of a project without a repository is refused, naming why.
    const git = await t.api<{ error: { code: string } }>('POST', '/projects/cli-site/deployments', {});
    expect(git.status).toBe(409);
    expect(git.body.error.code).toBe(CLI_DEPLOY_ERRORS.noRepository);
  });

  it('a production deploy with one changed file uploads one blob per region and switches what the edge serves', async () => {
    const first = await deploy('cli-site', v1, { target: 'production' });
    expect(first.created.projectCreated).toBe(false);
    expect(first.created.regions.map((r) => r.missing.length)).toEqual([0, 0]);
    expect(first.view).toMatchObject({ status: 'ready', isProduction: true, target: 'production' });
    await servedAt('cli-site.localhost', 'cli one');

    const v2 = { ...v1, 'index.html': '<h1>cli two</h1>' };
    const second = await deploy('cli-site', v2, { target: 'production' });
    expect(second.created.regions.map((r) => [r.region, r.missing.length, r.present])).toEqual([
      ['us-east-1', 1, 2],
      ['eu-west-1', 1, 2],
    ]);
    expect(second.view.stats.uploadedBytes).toBe(2 * Buffer.byteLength(v2['index.html']));
    await servedAt('cli-site.localhost', 'cli two');

    // Promote (rollback) goes through the same route as a Git deployment's.
    const back = await t.api('POST', '/projects/cli-site/promote', { deploymentId: first.view.id });
    expect(back.status).toBe(200);
    await servedAt('cli-site.localhost', 'cli one');

    const history = await t.api<DeploymentView[]>('GET', '/projects/cli-site/deployments');
    expect(history.body.filter((d) => d.source === 'cli' && d.status === 'ready')).toHaveLength(3);
  });

  it('refuses to finalize with blobs that were never uploaded, and writes nothing', async () => {
    const folder = { 'index.html': '<h1>never uploaded</h1>', 'a.txt': 'also never uploaded' };
    const created = await created201({ slug: 'cli-site', files: manifestOf(folder), target: 'production' });
    // Upload only one of the two: the other is claimed but not there.
    const partial = {
      ...created,
      regions: created.regions.map((r) => ({ ...r, missing: r.missing.slice(0, 1) })),
    };
    await upload(partial, folder);

    const done = await finalize(created.deployment.id);
    expect(done.status).toBe(409);
    expect(done.body.error).toMatchObject({ code: CLI_DEPLOY_ERRORS.blobsMissing, field: 'files' });
    const after = await t.api<DeploymentView>('GET', `/deployments/${created.deployment.id}`);
    expect(after.body).toMatchObject({ status: 'building', phase: 'upload' });
    expect((await t.visit('cli-site.localhost')).body).toContain('cli one');
    const target = t.platform.config.storage.find((s) => s.region === 'us-east-1')!;
    const s3 = createS3Client(target);
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: target.bucket, Prefix: `deployments/${created.deployment.id}/` }),
    );
    expect(listed.KeyCount ?? 0).toBe(0);
    s3.destroy();

    // Every grant is a PUT of one blob by its hash, bound to it by the signed checksum and
    // If-None-Match (S3 checks both; s3rver checks neither, so this reads the grants themselves).
    for (const region of created.regions) {
      for (const g of region.missing) {
        expect(new URL(g.put.url).pathname).toMatch(new RegExp(`^/[^/]+/blobs/${g.hash}$`));
        expect(g.put.headers).toMatchObject({
          'if-none-match': '*',
          'x-amz-checksum-sha256': Buffer.from(g.hash, 'hex').toString('base64'),
        });
      }
    }

    // A cancel ends it like any deployment; finalize then refuses.
    const where = { deploymentId: created.deployment.id };
    expect(await t.db.cliPendingBlob.count({ where })).toBeGreaterThan(0);
    expect((await t.api('POST', `/deployments/${created.deployment.id}/cancel`)).status).toBe(200);
    const late = await finalize(created.deployment.id);
    expect(late.status).toBe(409);
    expect(late.body.error?.code).toBe(CLI_DEPLOY_ERRORS.notUploading);
    // It can never be finalized now: what it kept for finalize goes (CliDeployJanitor).
    await until(
      'the cancelled upload to be cleared',
      async () =>
        (await t.db.cliPendingBlob.count({ where })) === 0 &&
        (await t.db.cliDeployManifest.count({ where })) === 0,
    );
  });

  it('checks reported landed blobs in storage, believing no report: only stored ones are not checked again', async () => {
    const folder = { 'index.html': '<h1>landed</h1>', 'a.txt': 'landed a', 'b.txt': 'landed b' };
    const created = await created201({
      slug: 'cli-landed',
      regions: ['us-east-1', 'eu-west-1'],
      files: manifestOf(folder),
    });
    const id = created.deployment.id;
    const [index, a, b] = Object.values(folder).map((text) => sha256(text)) as [string, string, string];
    // Only a.txt lands, in both regions.
    await upload(
      {
        ...created,
        regions: created.regions.map((r) => ({ ...r, missing: r.missing.filter((g) => g.hash === a) })),
      },
      folder,
    );
    // What finalize would check, per region.
    const granted = async () => {
      const rows = await t.db.cliPendingBlob.findMany({ where: { deploymentId: id } });
      const out: Record<string, string[]> = {};
      for (const r of rows) (out[r.region] ??= []).push(r.hash);
      return Object.fromEntries(Object.entries(out).map(([r, hs]) => [r, hs.sort()]));
    };
    expect(await granted()).toEqual({ 'us-east-1': [index, a, b].sort(), 'eu-west-1': [index, a, b].sort() });

    // The report claims b too (never uploaded) and a hash the manifest does not have.
    const landed = (body: unknown) =>
      t.api<CliLandedResult & { error?: { code: string; field?: string } }>(
        'POST',
        `/cli-deploys/${id}/landed`,
        body,
      );
    const report = await landed({
      regions: [
        { region: 'us-east-1', hashes: [a, b, sha256('not in the manifest')] },
        { region: 'eu-west-1', hashes: [a] },
      ],
    });
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    expect(CliLandedResultSchema.parse(report.body).regions).toEqual([
      { region: 'us-east-1', verified: 1, notStored: 1 },
      { region: 'eu-west-1', verified: 1, notStored: 0 },
    ]);
    // What finalize will still check: all but a, in each region.
    expect(await granted()).toEqual({ 'us-east-1': [index, b].sort(), 'eu-west-1': [index, b].sort() });

    const other = await landed({ regions: [{ region: 'ap-south-1', hashes: [a] }] });
    expect(other.status).toBe(400);
    expect(other.body.error?.field).toBe('regions.0.region');
    const bad = await landed({ regions: [{ region: 'us-east-1', hashes: ['abc'] }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.field).toBe('regions.0.hashes.0');

    // The claim of b was not believed.
    const early = await finalize(id);
    expect(early.status).toBe(409);
    expect(early.body.error?.code).toBe(CLI_DEPLOY_ERRORS.blobsMissing);
    await upload(created, folder);
    const done = await finalize(id);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.status).toBe('ready');
    const late = await landed({ regions: [{ region: 'us-east-1', hashes: [a] }] });
    expect(late.status).toBe(409);
    expect(late.body.error?.code).toBe(CLI_DEPLOY_ERRORS.notUploading);
  });

  it.each([
    [
      'a bad hash',
      { 'index.html': { hash: 'abc', size: 1, contentType: 'text/html' } },
      'files.index.html.hash',
    ],
    [
      'a path outside the folder',
      { '../escape.html': { hash: sha256('x'), size: 1, contentType: 'text/html' } },
      'files.../escape.html',
    ],
    [
      'an absolute path',
      { '/etc/passwd': { hash: sha256('x'), size: 1, contentType: 'text/plain' } },
      'files./etc/passwd',
    ],
    [
      'a file above the size limit',
      { 'big.bin': { hash: sha256('x'), size: 26 * 1024 * 1024, contentType: 'application/octet-stream' } },
      'files.big.bin.size',
    ],
    [
      'a negative size',
      { 'a.txt': { hash: sha256('x'), size: -1, contentType: 'text/plain' } },
      'files.a.txt.size',
    ],
    ['no files', {}, 'files'],
  ])('answers %s with a 400 naming the field, and creates nothing', async (_name, files, field) => {
    const before = await t.db.deployment.count();
    const res = await create({ slug: 'cli-bad-input', files });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error?.field).toBe(field);
    expect(await t.db.deployment.count()).toBe(before);
    expect(await t.db.project.count({ where: { slug: 'cli-bad-input' } })).toBe(0);
  });

  it('answers too many files with a 413 naming files, and an unknown region with a 400', async () => {
    const many = Object.fromEntries(
      Array.from({ length: 301 }, (_, i) => [
        `f${i}.txt`,
        { hash: sha256(String(i)), size: 1, contentType: 'text/plain' },
      ]),
    );
    const res = await create({ slug: 'cli-too-many', files: many });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: CLI_DEPLOY_ERRORS.tooLarge, field: 'files' });
    const region = await create({ slug: 'cli-too-many', files: manifestOf(v1), regions: ['mars-1'] });
    expect(region.status).toBe(400);
    expect(region.body.error?.field).toBe('regions.0');
    expect(await t.db.project.count({ where: { slug: 'cli-too-many' } })).toBe(0);
  });

  it('a silent upload is failed by the watchdog; heartbeats keep an upload alive', async () => {
    const folder = { 'index.html': '<h1>slow upload</h1>' };
    const silent = CliDeployCreatedSchema.parse(
      (await create({ slug: 'cli-slow', files: manifestOf(folder) })).body,
    );
    const failed = await t.waitFor(silent.deployment.id, ['error', 'ready', 'cancelled'], 60_000);
    expect(failed.status).toBe('error');
    expect(failed.error).toMatch(/heartbeats/);
    expect((await finalize(silent.deployment.id)).status).toBe(409);

    const alive = CliDeployCreatedSchema.parse(
      (await create({ slug: 'cli-slow', files: manifestOf(folder) })).body,
    );
    const until = Date.now() + 6_000;
    while (Date.now() < until) {
      const beat = await t.api('POST', `/cli-deploys/${alive.deployment.id}/heartbeat`, {});
      expect(beat.status).toBe(204);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    await upload(alive, folder);
    const done = await finalize(alive.deployment.id);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.status).toBe('ready');
    // A finished deployment takes no more beats.
    expect((await t.api('POST', `/cli-deploys/${alive.deployment.id}/heartbeat`, {})).status).toBe(409);
  });

  it('requires the API token', async () => {
    const res = await fetch(`${t.platform.controlPlaneUrl}/api/v1/cli-deploys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not-the-token' },
      body: JSON.stringify({ slug: 'cli-site', files: manifestOf(v1) }),
    });
    expect(res.status).toBe(401);
  });
});

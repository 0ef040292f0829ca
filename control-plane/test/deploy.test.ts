import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  blobKey,
  manifestKey,
  ManifestSchema,
  type DeploymentView,
  type ProjectView,
  type TrafficView,
} from '@deploysphere/contracts';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, descendants } from './cli-process.js';
import { GitRepo } from './git-repo.js';
import { startTestPlatform, type TestPlatform } from './harness.js';

// The deploy pipeline end to end on the real local stack: git, the sandboxed build worker,
// JetStream, s3rver per region, the KV switch, and the edge in workerd serving the result.

let t: TestPlatform;
let site: GitRepo;

const page = (text: string) =>
  `<!doctype html><html><body><h1>${text}</h1><script src="/app.js"></script></body></html>`;
const COPY_BUILD = 'mkdir -p dist && cp -r site/. dist/';

beforeAll(async () => {
  t = await startTestPlatform({ BUILD_TIMEOUT_MS: '60000' });
  site = await GitRepo.create({ 'site/index.html': page('version one'), 'site/app.js': 'console.log("v1")' });
});
afterAll(async () => {
  await t?.stop();
});

async function deploy(slug: string): Promise<DeploymentView> {
  const res = await t.api<DeploymentView>('POST', `/projects/${slug}/deployments`, {});
  expect(res.status).toBe(202);
  expect(['queued', 'building']).toContain(res.body.status);
  return res.body;
}

async function createProject(slug: string, body: Record<string, unknown>) {
  const res = await t.api('POST', '/projects', { slug, regions: ['us-east-1'], ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

const host = (slug: string) => `${slug}.localhost`;

async function waitUntilServed(slug: string, text: string, withinMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const res = await t.visit(host(slug));
    if (res.body.includes(text)) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`${slug} still serves: ${res.body.slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a static site in two regions', () => {
  let first: DeploymentView;

  it('deploys to ready and the edge serves it', async () => {
    await createProject('static-site', {
      repoUrl: site.url,
      installCommand: 'true',
      buildCommand: COPY_BUILD,
      regions: ['eu-west-1', 'ap-southeast-1'],
    });
    first = await t.waitFor((await deploy('static-site')).id, ['ready', 'error']);
    expect(first.error).toBeNull();
    expect(first).toMatchObject({
      status: 'ready',
      regions: ['eu-west-1', 'ap-southeast-1'],
      commitSha: expect.stringMatching(/^[0-9a-f]{40}$/),
      isProduction: true,
    });
    expect(first.stats.files).toBe(2);
    expect(first.stats.uploadedBytes).toBeGreaterThan(0);
    expect(Object.keys(first.stats.phaseDurationsMs)).toEqual(
      expect.arrayContaining(['clone', 'install', 'build', 'upload', 'activate']),
    );

    const res = await t.visit(host('static-site'));
    expect(res.status).toBe(200);
    expect(res.body).toContain('version one');
    expect(res.headers['x-deploysphere-region']).toBe('eu-west-1');
    const asset = await t.visit(host('static-site'), '/app.js');
    expect(asset.body).toBe('console.log("v1")');
    const permanent = await t.visit(new URL(first.deploymentUrl).hostname);
    expect(permanent.body).toContain('version one');
  });

  it("keeps the build's log lines, in order, for the logs API", async () => {
    const deadline = Date.now() + 10_000;
    let lines: { seq: number; stream: string; message: string }[] = [];
    while (Date.now() < deadline) {
      const res = await t.api<{ lines: typeof lines }>('GET', `/deployments/${first.id}/logs?limit=1000`);
      lines = res.body.lines;
      if (lines.some((l) => l.message.includes('Uploaded'))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    expect(lines.some((l) => l.stream === 'system' && l.message.includes('Cloning'))).toBe(true);
    const search = await t.api<{ lines: { message: string }[] }>(
      'GET',
      '/logs/search?q=cloning&project=static-site',
    );
    expect(search.status).toBe(200);
    expect(search.body.lines.length).toBeGreaterThan(0);
  });

  it('counts the build in the Prometheus metrics', async () => {
    const text = await (await fetch(`${t.platform.controlPlaneUrl}/metrics`)).text();
    expect(text).toMatch(/^deploysphere_deployments_finished_total\{status="ready"\} [1-9]/m);
    expect(text).toMatch(/^deploysphere_build_phase_duration_seconds_count\{phase="upload"\} [1-9]/m);
    expect(text).toMatch(/^deploysphere_build_output_bytes_total\{kind="uploaded"\} [1-9]/m);
    expect(text).toMatch(/^deploysphere_deployments_active\{status="building"\} 0$/m);
  });

  it("records the project's edge traffic per region for the dashboard", async () => {
    for (let i = 0; i < 5; i++) await t.visit(host('static-site'), '/');
    await t.visit(host('static-site'), '/missing.js'); // a 404
    const deadline = Date.now() + 20_000;
    let view: TrafficView | undefined;
    while (Date.now() < deadline) {
      // The edge ships a batch on a request once its flush interval (2 s locally) has passed.
      await new Promise((r) => setTimeout(r, 500));
      await t.visit('localhost', '/healthz');
      await t.visit(host('static-site'), '/');
      view = (await t.api<TrafficView>('GET', '/projects/static-site/traffic?window=1h')).body;
      const requests = view.points.reduce((sum, p) => sum + p.requests, 0);
      if (requests >= 6 && view.points.some((p) => p.clientErrors > 0)) break;
    }
    expect(view?.stepSeconds).toBe(60);
    expect(view?.regions).toContain('eu-west-1');
    expect(view!.points.reduce((sum, p) => sum + p.requests, 0)).toBeGreaterThanOrEqual(6);
    expect(view!.points.reduce((sum, p) => sum + p.clientErrors, 0)).toBeGreaterThanOrEqual(1);
    expect((await t.api('GET', '/projects/static-site/traffic?window=2y')).status).toBe(400);
  });

  it('stores the manifest and every blob in both regions', async () => {
    for (const region of ['eu-west-1', 'ap-southeast-1']) {
      const target = t.platform.config.storage.find((s) => s.region === region)!;
      const s3 = createS3Client(target);
      const object = await s3.send(
        new GetObjectCommand({ Bucket: target.bucket, Key: manifestKey(first.id) }),
      );
      const manifest = ManifestSchema.parse(JSON.parse(await object.Body!.transformToString()));
      expect(Object.keys(manifest.files).sort()).toEqual(['app.js', 'index.html']);
      for (const file of Object.values(manifest.files)) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: blobKey(file.hash) }));
        expect(head.ContentLength).toBe(file.size);
      }
      s3.destroy();
    }
  });

  it('uploads 0 blob bytes when the output did not change', async () => {
    const again = await t.waitFor((await deploy('static-site')).id, ['ready', 'error']);
    expect(again.status).toBe('ready');
    expect(again.stats.uploadedBytes).toBe(0);
    expect(again.stats.bytes).toBe(first.stats.bytes);
  });

  it('promotes an older deployment back to production within the route-cache TTL', async () => {
    await site.commit({ 'site/index.html': page('version two') });
    const second = await t.waitFor((await deploy('static-site')).id, ['ready', 'error']);
    expect(second.status).toBe('ready');
    await waitUntilServed('static-site', 'version two', 5_000);

    const promoted = await t.api<DeploymentView>('POST', '/projects/static-site/promote', {
      deploymentId: first.id,
    });
    expect(promoted.status).toBe(200);
    expect(promoted.body.isProduction).toBe(true);
    const tookMs = await waitUntilServed('static-site', 'version one', 5_000);
    expect(tookMs).toBeLessThanOrEqual(5_000);
    // The newer deployment stays reachable on its own permanent host.
    expect((await t.visit(new URL(second.deploymentUrl).hostname)).body).toContain('version two');

    const history = await t.api<DeploymentView[]>('GET', '/projects/static-site/deployments');
    expect(history.body.map((d) => d.id)[0]).toBe(second.id);
    expect(history.body.filter((d) => d.isProduction).map((d) => d.id)).toEqual([first.id]);
  });

  it('serves a custom domain once it is attached, and stops when it is removed', async () => {
    const added = await t.api<ProjectView>('POST', '/projects/static-site/domains', {
      hostname: 'WWW.Example-Shop.test',
    });
    expect(added.status).toBe(201);
    expect(added.body.domains).toEqual(['www.example-shop.test']);
    expect((await t.visit('www.example-shop.test')).body).toContain('version one'); // production, after the promote

    for (const [hostname, status] of [
      ['www.example-shop.test', 409],
      ['shop.localhost', 400],
      ['not a host', 400],
      ['*.example.com', 400],
    ] as const) {
      const res = await t.api<{ error: { field: string } }>('POST', '/projects/static-site/domains', {
        hostname,
      });
      expect(res.status, hostname).toBe(status);
      expect(res.body.error.field).toBe('hostname');
    }
    expect(await t.db.customDomain.count()).toBe(1);

    expect((await t.api('DELETE', '/projects/static-site/domains/www.example-shop.test')).status).toBe(204);
    await new Promise((r) => setTimeout(r, 3_500)); // the edge's route-cache TTL (3 s)
    expect((await t.visit('www.example-shop.test')).status).toBe(404);
    expect((await t.api('DELETE', '/projects/static-site/domains/www.example-shop.test')).status).toBe(404);
  });

  it('stops serving every hostname once the project is deleted', async () => {
    expect((await t.api('DELETE', '/projects/static-site')).status).toBe(204);
    await new Promise((r) => setTimeout(r, 3_500)); // the edge's route-cache TTL (3 s)
    expect((await t.visit(host('static-site'))).status).toBe(404);
    expect((await t.visit(new URL(first.deploymentUrl).hostname)).status).toBe(404);
  });
});

describe('failures end as states with a reason', () => {
  it('a failing build ends in error with the exit code and the last lines', async () => {
    const repo = await GitRepo.create({
      'build.sh': 'echo preparing\necho "something broke: missing module" >&2\nexit 1\n',
    });
    await createProject('failing-build', {
      repoUrl: repo.url,
      installCommand: 'true',
      buildCommand: 'sh build.sh',
    });
    const d = await t.waitFor((await deploy('failing-build')).id, ['ready', 'error']);
    expect(d.status).toBe('error');
    expect(d.error).toMatch(/exit(ed)? (with )?code 1/i);
    expect(d.error).toContain('something broke: missing module');
  });

  it('a cancel during the build ends cancelled and leaves no build process', async () => {
    const repo = await GitRepo.create({ 'README.md': 'slow' });
    await createProject('cancel-me', {
      repoUrl: repo.url,
      installCommand: 'true',
      buildCommand: 'sleep 300',
    });
    const { id } = await deploy('cancel-me');
    for (;;) {
      const { body } = await t.api<DeploymentView>('GET', `/deployments/${id}`);
      if (body.phase === 'build') break;
      expect(['queued', 'building']).toContain(body.status); // fail fast if it ends some other way
      await new Promise((r) => setTimeout(r, 100));
    }
    const buildProcesses = () =>
      alive(descendants(process.pid)).filter((p) => p.includes('sleep 300') || p.includes(id));
    // The phase is reported before the sandbox (and its egress proxy) is up: wait for the command.
    const started = Date.now() + 30_000;
    while (buildProcesses().length === 0 && Date.now() < started)
      await new Promise((r) => setTimeout(r, 100));
    expect(buildProcesses().length).toBeGreaterThan(0);

    const cancelled = await t.api<DeploymentView>('POST', `/deployments/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const deadline = Date.now() + 15_000;
    while (buildProcesses().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(buildProcesses()).toEqual([]);
    expect((await t.api<DeploymentView>('GET', `/deployments/${id}`)).body.status).toBe('cancelled');
  });

  it('a newer deployment supersedes a queued one', async () => {
    const repo = await GitRepo.create({ 'README.md': 'x' });
    await createProject('superseded', {
      repoUrl: repo.url,
      installCommand: 'true',
      buildCommand: 'sleep 5 && mkdir -p out && echo hi > out/index.html',
    });
    const running = await deploy('superseded');
    await t.waitFor(running.id, ['building']);
    const queued = await deploy('superseded');
    const newest = await deploy('superseded');
    const old = await t.api<DeploymentView>('GET', `/deployments/${queued.id}`);
    expect(old.body).toMatchObject({ status: 'cancelled', error: `superseded by ${newest.id}` });
    await t.api('POST', `/deployments/${running.id}/cancel`);
    expect((await t.waitFor(newest.id, ['ready', 'error'])).status).toBe('ready');
  });
});

describe('isolation', () => {
  it("a build cannot read the platform's environment, DATA_DIR, or another project's env", async () => {
    const otherSecret = 'other-project-secret-5f1e';
    const ownValue = 'own-project-value-9a3c';
    await createProject('other-project', {
      repoUrl: site.url,
      installCommand: 'true',
      buildCommand: COPY_BUILD,
      env: { OTHER_SECRET: otherSecret },
    });
    await t.waitFor((await deploy('other-project')).id, ['ready', 'error']);

    const probe = [
      'mkdir -p dist',
      '{ echo "OWN=$OWN_VALUE"; env; cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"',
      `ls -la ${t.dataDir} 2>&1; cat ${t.dataDir}/admin-token ${t.dataDir}/env-encryption-key ${t.dataDir}/nats/auth/identities.json 2>&1`,
      `grep -rs "${otherSecret}" / --exclude-dir=proc --exclude-dir=sys --exclude-dir=usr 2>/dev/null | head -5; } > dist/index.html`,
    ].join('; ');
    const repo = await GitRepo.create({ 'README.md': 'probe' });
    await createProject('probe', {
      repoUrl: repo.url,
      installCommand: 'true',
      buildCommand: probe,
      env: { OWN_VALUE: ownValue },
    });
    const d = await t.waitFor((await deploy('probe')).id, ['ready', 'error']);
    expect(d.status, d.error ?? '').toBe('ready');

    const seen = (await t.visit(host('probe'))).body;
    expect(seen).toContain(`OWN=${ownValue}`); // the probe works: it sees its own env
    expect(seen).not.toContain(t.platform.adminToken);
    expect(seen).not.toContain(otherSecret);
    expect(seen).not.toContain(t.platform.config.databaseUrl);
    expect(seen).not.toContain('S3RVER');
    expect(seen).not.toContain('NATS_URL');
    // The worker's own NATS user and the platform's NATS keys stay outside the sandbox too.
    expect(seen).not.toContain('NATS_CREDS');
    expect(seen).not.toContain('NATS USER JWT');
    expect(seen).not.toContain('operatorSeed');
    expect(seen).not.toContain(t.platform.config.natsAuth.buildSigningKey);
  });
});

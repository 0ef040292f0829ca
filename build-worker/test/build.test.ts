import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  blobKey,
  manifestKey,
  ManifestSchema,
  type BuildSpec,
  type Manifest,
  type StorageTarget,
} from '@deploysphere/contracts';
import { startS3rver, S3RVER_CREDENTIALS, type EmbeddedS3 } from '@deploysphere/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerInterrupted } from '../src/build-error.js';
import { runBuild } from '../src/build.js';
import { DEFAULT_BUILD_SETTINGS, type BuildSettings } from '../src/config.js';
import { MemoryEventSink } from '../src/events.js';
import { CollectingLogSink } from '../src/log-sink.js';
import { createS3Client } from '../src/s3-client.js';
import {
  createRepo,
  deploymentId,
  inProcessGrants,
  processesWithMarker,
  tempDir,
  waitFor,
  type TestRepo,
} from './helpers.js';

let root: string;
let servers: EmbeddedS3[] = [];
let targets: StorageTarget[];
let settings: BuildSettings;

beforeAll(async () => {
  root = await tempDir('bw-e2e-');
  servers = await Promise.all(
    ['a', 'b'].map((r) => startS3rver({ directory: join(root, `s3-${r}`), buckets: [`region-${r}`] })),
  );
  targets = servers.map((s, i) => ({
    region: i === 0 ? 'eu-west' : 'us-east',
    endpoint: s.endpoint,
    bucket: i === 0 ? 'region-a' : 'region-b',
    forcePathStyle: true,
    ...S3RVER_CREDENTIALS,
  }));
  settings = {
    ...DEFAULT_BUILD_SETTINGS,
    workDir: join(root, 'work'),
    timeoutMs: 60_000,
    memoryMb: 2048,
    heartbeatIntervalMs: 200,
  };
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await rm(root, { recursive: true, force: true });
});

function spec(repo: TestRepo, overrides: Partial<BuildSpec> = {}): BuildSpec {
  return {
    v: 1,
    previousDeployments: [],
    deploymentId: deploymentId(),
    projectSlug: 'my-site',
    repoUrl: repo.url,
    gitRef: null,
    installCommand: '',
    buildCommand: '',
    outputDir: null,
    rootDir: null,
    env: {},
    storage: targets,
    ...overrides,
  };
}

async function build(s: BuildSpec, extra: Partial<BuildSettings> = {}, signal?: AbortSignal) {
  const events = new MemoryEventSink();
  const logs = new CollectingLogSink();
  const result = await runBuild(s, {
    settings: { ...settings, ...extra },
    events,
    logs,
    signal,
    grants: inProcessGrants(s, targets),
  });
  // The cache save runs after the outcome, in the background: wait for it, or it writes into
  // the work directory while the next test (or afterAll) removes it.
  if (result.status === 'uploaded') await result.cacheSave;
  // Every build's events are gapless from 1 and end with exactly one terminal event, except an
  // interrupted worker's, which end with none.
  expect(events.events.map((e) => e.seq)).toEqual(events.events.map((_, i) => i + 1));
  expect(events.events[0]?.type).toBe('started');
  const terminal = events.events.filter((e) => e.type === 'uploaded' || e.type === 'failed');
  if (result.status === 'interrupted') {
    expect(terminal).toEqual([]);
  } else {
    expect(['uploaded', 'failed']).toContain(events.events.at(-1)?.type);
    expect(terminal).toHaveLength(1);
  }
  return { result, events, logs };
}

async function readObject(target: StorageTarget, key: string): Promise<Buffer> {
  const client = createS3Client(target);
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  } finally {
    client.destroy();
  }
}

async function manifestIn(target: StorageTarget, id: string): Promise<Manifest> {
  return ManifestSchema.parse(JSON.parse((await readObject(target, manifestKey(id))).toString('utf8')));
}

async function keysIn(target: StorageTarget): Promise<string[]> {
  const client = createS3Client(target);
  try {
    const res = await client.send(new ListObjectsV2Command({ Bucket: target.bucket }));
    return (res.Contents ?? []).map((o) => o.Key!);
  } finally {
    client.destroy();
  }
}

describe('runBuild end to end (git, bubblewrap, s3rver in two regions)', () => {
  let staticRepo: TestRepo;

  beforeAll(async () => {
    staticRepo = await createRepo({
      'README.md': 'not published',
      'public/index.html': '<!doctype html><title>static</title><h1>Hello</h1>',
      'public/about/index.html': '<h1>About</h1>',
      'public/css/site.css': 'h1 { color: red }',
      'public/_redirects': '/old /about/ 301\n/spa/* /index.html 200\n/bad-line\n',
      'public/_headers': '/*\n  X-Frame-Options: DENY\n/css/*\n  Cache-Control: public, max-age=60\n',
      'public/leak-passwd': { symlink: '/etc/passwd' },
      'public/leak-up': { symlink: '../../../../../../../etc/hostname' },
    });
  });

  it('deploys a static site to both regions, with parsed _redirects/_headers and no escaping symlinks', async () => {
    const s = spec(staticRepo);
    const { result, events, logs } = await build(s);
    expect(result.status).toBe('uploaded');
    if (result.status !== 'uploaded') return;
    expect(result.outputDir).toBe('public');
    expect(
      events.events
        .map((e) => (e.type === 'phase' ? e.phase : e.type))
        .filter((t) => t !== 'heartbeat' && t !== 'progress'),
    ).toEqual(['started', 'clone', 'commit', 'install', 'build', 'upload', 'uploaded']);
    const commit = events.ofType('commit')[0];
    expect(commit?.commitSha).toBe(result.commitSha);
    expect(result.stats.files).toBe(3);
    expect(result.stats.uploadedBytes).toBe(result.stats.bytes * 2);
    expect(Object.keys(result.stats.phaseDurationsMs).sort()).toEqual([
      'build',
      'clone',
      'install',
      'upload',
    ]);
    expect(events.ofType('uploaded')[0]?.stats).toEqual(result.stats);
    expect(logs.text()).toContain('Ignored: _redirects line 3');
    expect(logs.text()).toContain('Skipping leak-passwd: symlink points outside the repository');

    for (const target of targets) {
      const manifest = await manifestIn(target, s.deploymentId);
      expect(Object.keys(manifest.files).sort()).toEqual(['about/index.html', 'css/site.css', 'index.html']);
      expect(manifest.redirects).toEqual([
        { from: '/old', to: '/about/', status: 301, force: false },
        { from: '/spa/*', to: '/index.html', status: 200, force: false },
      ]);
      expect(manifest.headers).toEqual([
        { pattern: '/*', headers: { 'X-Frame-Options': 'DENY' } },
        { pattern: '/css/*', headers: { 'Cache-Control': 'public, max-age=60' } },
      ]);
      const index = manifest.files['index.html']!;
      expect((await readObject(target, blobKey(index.hash))).toString()).toContain('<h1>Hello</h1>');
      const keys = await keysIn(target);
      for (const file of Object.values(manifest.files)) expect(keys).toContain(blobKey(file.hash));
    }
  });

  it('uploads 0 bytes when redeploying unchanged output', async () => {
    const { result, events } = await build(spec(staticRepo));
    expect(result.status).toBe('uploaded');
    expect(result.stats.uploadedBytes).toBe(0);
    expect(result.stats.files).toBe(3);
    expect(events.ofType('uploaded')[0]?.stats.uploadedBytes).toBe(0);
  });

  it('runs npm install and npm run build in the sandbox for a small site (no dependencies, no network)', async () => {
    const repo = await createRepo({
      'package.json': JSON.stringify({
        name: 'small-site',
        private: true,
        scripts: { build: 'node build.mjs' },
      }),
      'build.mjs': [
        "import { mkdirSync, writeFileSync } from 'node:fs';",
        "mkdirSync('dist/assets', { recursive: true });",
        'writeFileSync(\'dist/index.html\', `<h1>${process.env.SITE_TITLE}</h1><script src="/assets/app.js"></script>`);',
        "writeFileSync('dist/assets/app.js', 'console.log(1)');",
        "console.log('built with node', process.version);",
      ].join('\n'),
    });
    const s = spec(repo, {
      installCommand: 'npm install',
      buildCommand: 'npm run build',
      env: { SITE_TITLE: 'From project env' },
    });
    const { result, logs } = await build(s);
    expect(result.status, logs.text()).toBe('uploaded');
    expect(logs.text()).toContain('built with node');
    const manifest = await manifestIn(targets[1]!, s.deploymentId);
    expect(Object.keys(manifest.files).sort()).toEqual(['assets/app.js', 'index.html']);
    expect((await readObject(targets[1]!, blobKey(manifest.files['index.html']!.hash))).toString()).toContain(
      'From project env',
    );
    expect(manifest.files['assets/app.js']?.contentType).toBe('text/javascript; charset=utf-8');
  });

  it('runs a real npm install from the registry inside the sandbox', async () => {
    const repo = await createRepo({
      'package.json': JSON.stringify({
        name: 'with-deps',
        private: true,
        dependencies: { 'is-number': '7.0.0' },
        scripts: { build: 'node build.cjs' },
      }),
      'build.cjs': [
        "const fs = require('node:fs');",
        "const isNumber = require('is-number');",
        "fs.mkdirSync('dist', { recursive: true });",
        "fs.writeFileSync('dist/index.html', `<p>${isNumber(42)}</p>`);",
      ].join('\n'),
    });
    const s = spec(repo, {
      installCommand: 'npm install --no-audit --no-fund',
      buildCommand: 'npm run build',
    });
    const { result, logs } = await build(s);
    expect(result.status, logs.text()).toBe('uploaded');
    const manifest = await manifestIn(targets[0]!, s.deploymentId);
    expect((await readObject(targets[0]!, blobKey(manifest.files['index.html']!.hash))).toString()).toBe(
      '<p>true</p>',
    );
  }, 120_000);

  it('fails a build that exits 1 with the exit code and the last lines', async () => {
    const repo = await createRepo({ 'index.html': 'x' });
    const { result, events } = await build(
      spec(repo, { buildCommand: 'echo "compiling..."; echo "Error: cannot find module foo" >&2; exit 1' }),
    );
    expect(result).toMatchObject({ status: 'failed', kind: 'command_failed', phase: 'build' });
    const failed = events.ofType('failed')[0];
    expect(failed?.error).toContain('exit code 1');
    expect(failed?.error).toContain('Error: cannot find module foo');
    expect(failed?.error).toContain('compiling...');
    expect(events.ofType('uploaded')).toHaveLength(0);
  });

  it('fails a build that passes the time limit', async () => {
    const repo = await createRepo({ 'index.html': 'x' });
    const { result, events } = await build(spec(repo, { buildCommand: 'echo working; sleep 600' }), {
      timeoutMs: 3000,
    });
    expect(result).toMatchObject({ status: 'failed', kind: 'timeout' });
    expect(events.ofType('failed')[0]?.error).toMatch(/time limit/);
  });

  it('cancels a running build and leaves no build process behind', async () => {
    const marker = String(600000 + Math.floor(Math.random() * 99999));
    const repo = await createRepo({ 'index.html': 'x' });
    const controller = new AbortController();
    const running = build(
      spec(repo, { buildCommand: `(sleep ${marker} &); setsid sleep ${marker} & sleep ${marker}` }),
      {},
      controller.signal,
    );
    await waitFor(async () => (await processesWithMarker(`sleep\0${marker}`)).length >= 3);
    controller.abort();
    const { result, events } = await running;
    expect(result.status).toBe('cancelled');
    expect(events.ofType('failed')[0]?.error).toBe('Build cancelled');
    await waitFor(async () => (await processesWithMarker(`sleep\0${marker}`)).length === 0);
  });

  it('reports no outcome when the worker itself is interrupted (SIGTERM: StopTask, a Spot reclaim)', async () => {
    const marker = String(600000 + Math.floor(Math.random() * 99999));
    const repo = await createRepo({ 'index.html': 'x' });
    const controller = new AbortController();
    const running = build(spec(repo, { buildCommand: `sleep ${marker}` }), {}, controller.signal);
    await waitFor(async () => (await processesWithMarker(`sleep\0${marker}`)).length >= 1);
    controller.abort(new WorkerInterrupted('SIGTERM'));
    const { result, events } = await running;
    expect(result).toMatchObject({ status: 'interrupted', signal: 'SIGTERM' });
    // The control plane decides: a reclaimed Spot build runs again, so no `failed` may land first.
    expect(events.ofType('failed')).toEqual([]);
    expect(events.events.at(-1)?.type).not.toBe('uploaded');
    await waitFor(async () => (await processesWithMarker(`sleep\0${marker}`)).length === 0);
  });

  it("cannot read the platform's env, DATA_DIR or another project's env", async () => {
    const secret = `planted-${Math.random().toString(36).slice(2)}`;
    const dataDir = join(root, 'platform-data');
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'secrets.env'), `DATABASE_URL=postgres://u:${secret}@db/x`);
    process.env.PLATFORM_SECRET = secret;
    process.env.DATA_DIR = dataDir;
    try {
      // Another project's build has the secret in its env; it runs first so any leak could linger.
      const other = await createRepo({ 'index.html': 'other' });
      const otherBuild = await build(
        spec(other, { env: { OTHER_PROJECT_TOKEN: secret }, buildCommand: 'true', outputDir: '.' }),
      );
      expect(otherBuild.result.status).toBe('uploaded');

      const repo = await createRepo({ 'README.md': 'x' });
      const probe = [
        'mkdir -p dist',
        '{',
        '  echo "env: $PLATFORM_SECRET $DATA_DIR $OTHER_PROJECT_TOKEN"',
        '  env',
        `  cat ${join(dataDir, 'secrets.env')}`,
        `  ls -la ${dataDir} ${root}`,
        '  tr "\\0" "\\n" < /proc/1/environ',
        '  for f in /proc/[0-9]*/environ; do tr "\\0" "\\n" < "$f"; done',
        `  grep -rs "${secret.slice(0, 8)}" /home /tmp /workspace /etc`,
        '} > dist/found.txt 2>&1',
        'echo "<h1>probe</h1>" > dist/index.html',
        'cat dist/found.txt',
      ].join('\n');
      const s = spec(repo, { buildCommand: probe, env: { MY_VAR: 'mine' } });
      const { result, logs } = await build(s);
      expect(result.status).toBe('uploaded');
      expect(logs.text()).toContain('MY_VAR=mine');
      expect(logs.text()).not.toContain(secret);
      const manifest = await manifestIn(targets[0]!, s.deploymentId);
      const found = (await readObject(targets[0]!, blobKey(manifest.files['found.txt']!.hash))).toString();
      expect(found).toContain('MY_VAR=mine');
      expect(found).not.toContain(secret);
      expect(found).toMatch(/secrets\.env: No such file or directory/);
      expect(found).toContain('env:   \n');
    } finally {
      delete process.env.PLATFORM_SECRET;
      delete process.env.DATA_DIR;
    }
  });

  it('does not upload files that a build links outside the checkout', async () => {
    const repo = await createRepo({ 'README.md': 'x' });
    const s = spec(repo, {
      buildCommand:
        'mkdir -p out && echo ok > out/index.html && ln -s /etc/passwd out/passwd && ln -s /proc/self/environ out/environ && ln -s ../README.md out/readme.txt',
    });
    const { result, logs } = await build(s);
    expect(result.status).toBe('uploaded');
    const manifest = await manifestIn(targets[0]!, s.deploymentId);
    expect(Object.keys(manifest.files).sort()).toEqual(['index.html', 'readme.txt']);
    expect(logs.text()).toContain('Skipping passwd: symlink points outside the repository');
  });

  it('builds in rootDir, and refuses a rootDir that is missing or links out of the repository', async () => {
    const repo = await createRepo({
      'apps/web/package.json': JSON.stringify({
        name: 'web',
        private: true,
        scripts: { build: 'mkdir -p dist && pwd > dist/index.html' },
      }),
      'apps/escape': { symlink: '/etc' },
    });
    const s = spec(repo, { rootDir: 'apps/web', buildCommand: 'npm run build' });
    const ok = await build(s);
    expect(ok.result).toMatchObject({ status: 'uploaded', outputDir: 'dist' });
    const manifest = await manifestIn(targets[0]!, s.deploymentId);
    expect((await readObject(targets[0]!, blobKey(manifest.files['index.html']!.hash))).toString()).toBe(
      '/workspace/apps/web\n',
    );
    for (const rootDir of ['apps/missing', 'apps/escape', '../x']) {
      const bad = await build(spec(repo, { rootDir, buildCommand: 'true' }));
      expect(bad.result, rootDir).toMatchObject({ status: 'failed', kind: 'invalid_input' });
    }
  });

  it('rejects a bad git ref before cloning', async () => {
    const { result, events } = await build(spec(staticRepo, { gitRef: '--upload-pack=touch /tmp/pwned' }));
    expect(result).toMatchObject({ status: 'failed', kind: 'invalid_input' });
    expect(events.ofType('failed')[0]?.error).toMatch(/Invalid git ref/);
    expect(events.ofType('commit')).toHaveLength(0);
  });

  it('fails with a clear reason when there is no output or it is too large', async () => {
    const repo = await createRepo({ 'README.md': 'x' });
    const none = await build(spec(repo));
    expect(none.result).toMatchObject({ status: 'failed', kind: 'output_missing' });
    const big = await build(spec(staticRepo), { maxOutputFiles: 2 });
    expect(big.result).toMatchObject({ status: 'failed', kind: 'output_too_large' });
    expect(big.events.ofType('failed')[0]?.error).toContain('MAX_OUTPUT_FILES');
  });

  it('refuses to build without bubblewrap unless unsandboxed builds are allowed', async () => {
    const missing = { bwrapPath: join(root, 'no-such-bwrap') };
    const refused = await build(spec(staticRepo), missing);
    expect(refused.result).toMatchObject({ status: 'failed', kind: 'sandbox_unavailable' });
    expect(refused.events.ofType('failed')[0]?.error).toMatch(/bubblewrap.*ALLOW_UNSANDBOXED_BUILDS/);
    const allowed = await build(spec(staticRepo, { buildCommand: 'echo "unsandboxed build"' }), {
      ...missing,
      allowUnsandboxed: true,
    });
    expect(allowed.result.status).toBe('uploaded');
    expect(allowed.logs.text()).toMatch(/WARNING: .*UNSANDBOXED/);
  });
});

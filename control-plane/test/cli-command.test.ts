import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  blobKey,
  CLI_EXIT_CODES,
  CliDeployResultSchema,
  CliErrorOutputSchema,
  CliWhoamiSchema,
  DeploymentViewSchema,
  ProjectViewSchema,
} from '@deploysphere/contracts';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import { startS3rver } from '@deploysphere/stack';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { oneJson, runCli, servedAt as servedOn, writeFolder } from './cli-runner.js';
import { REPO_ROOT } from './cli-process.js';
import { GitRepo } from './git-repo.js';
import { startTestPlatform, type TestPlatform } from './harness.js';

// A 2,000-file deploy to two regions on a shared 2-core machine takes tens of seconds.
vi.setConfig({ testTimeout: 240_000 });

// The built `deploysphere` command, run as a child process against the real local stack:
// PostgreSQL, NATS, s3rver per region, the control plane and the edge in workerd. One region's
// storage sits behind an HTTP proxy this test controls, to cut uploads off mid-way.

const EU_BUCKET = 'cli-test-eu';

let t: TestPlatform;
let dir: string;
let euS3: Awaited<ReturnType<typeof startS3rver>>;
let proxy: FlakyProxy;

/** Forwards to s3rver; while `failAfter` is set, blob PUTs beyond that many get their connection cut. */
class FlakyProxy {
  failAfter: number | undefined;
  blobPuts = 0;
  cut = 0;
  private server: Server | undefined;
  url = '';

  constructor(private readonly target: string) {}

  async start(): Promise<void> {
    const target = new URL(this.target);
    this.server = createServer((req, res) => {
      const isBlobPut = req.method === 'PUT' && req.url?.includes('/blobs/');
      if (isBlobPut && this.failAfter !== undefined && this.blobPuts >= this.failAfter) {
        this.cut += 1;
        req.socket.destroy();
        return;
      }
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          if (isBlobPut && (up.statusCode ?? 0) < 300) this.blobPuts += 1;
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-cli-cmd-'));
  await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'cli/build.mjs')]);
  euS3 = await startS3rver({ directory: join(dir, 's3-eu'), buckets: [EU_BUCKET] });
  proxy = new FlakyProxy(euS3.endpoint);
  await proxy.start();
  t = await startTestPlatform({
    S3_EU_WEST_1_ENDPOINT: proxy.url,
    S3_EU_WEST_1_BUCKET: EU_BUCKET,
    S3_EU_WEST_1_ACCESS_KEY_ID: 'S3RVER',
    S3_EU_WEST_1_SECRET_ACCESS_KEY: 'S3RVER',
  });
}, 240_000);
afterAll(async () => {
  await t?.stop();
  await proxy?.stop();
  await euS3?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The built CLI, signed in through the environment (as in CI) unless `opts.env` says otherwise. */
const cli = (args: string[], opts: Parameters<typeof runCli>[3] = {}) => runCli(t, dir, args, opts);
const servedAt = (host: string, text: string, path?: string) => servedOn(t, host, text, path);

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** How many of these contents a region's bucket holds. */
async function storedIn(region: string, contents: string[]): Promise<number> {
  const target = t.platform.config.storage.find((s) => s.region === region)!;
  const s3 = createS3Client(target);
  let n = 0;
  try {
    for (const text of contents) {
      try {
        await s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: blobKey(sha256(text)) }));
        n += 1;
      } catch {
        // not stored
      }
    }
  } finally {
    s3.destroy();
  }
  return n;
}

describe('deploysphere login, whoami and errors', () => {
  it('logs in with the token from stdin, stores it 0600, and whoami answers one JSON line', async () => {
    const env = { DEPLOYSPHERE_TOKEN: '', DEPLOYSPHERE_URL: '' };
    const login = await cli(['login', '--url', t.platform.controlPlaneUrl], {
      env,
      stdin: `${t.platform.adminToken}\n`,
    });
    expect(login.code, login.stderr).toBe(0);
    const path = join(dir, 'config', 'deploysphere', 'config.json');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ url: t.platform.controlPlaneUrl });

    const who = oneJson(await cli(['whoami', '--json'], { env }), CliWhoamiSchema);
    expect(who).toMatchObject({ url: t.platform.controlPlaneUrl, tokenSource: 'config' });
    expect(who.regions).toContain('eu-west-1');
    expect(who.account).toMatchObject({ kind: 'root', teams: [{ slug: 'default', role: 'owner' }] });

    // The environment wins over the stored login (CI).
    const bad = await cli(['whoami'], { env: { DEPLOYSPHERE_TOKEN: 'not-the-token' } });
    expect(bad.code).toBe(CLI_EXIT_CODES.auth);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^Error: The API token was refused/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);

    const logout = await cli(['logout'], { env });
    expect(logout.code).toBe(0);
    await expect(stat(path)).rejects.toThrow();
    const after = await cli(['whoami', '--json'], { env });
    expect(after.code).toBe(CLI_EXIT_CODES.auth);
    expect(oneJson(after, CliErrorOutputSchema).error.exitCode).toBe(CLI_EXIT_CODES.auth);
  });

  it('refuses a bad token at login, and names unknown things and unreachable servers with their own exit codes', async () => {
    const login = await cli(['login', '--url', t.platform.controlPlaneUrl], {
      env: { DEPLOYSPHERE_TOKEN: '', DEPLOYSPHERE_URL: '' },
      stdin: 'wrong-token\n',
    });
    expect(login.code).toBe(CLI_EXIT_CODES.auth);

    const missing = await cli(['inspect', 'abcdefghijklmnopqrstuvwx', '--json']);
    expect(missing.code).toBe(CLI_EXIT_CODES.notFound);
    expect(oneJson(missing, CliErrorOutputSchema).error.code).toBe('not_found');

    const offline = await cli(['projects'], { env: { DEPLOYSPHERE_URL: 'http://127.0.0.1:9' } });
    expect(offline.code).toBe(CLI_EXIT_CODES.network);
    expect(offline.stderr).toMatch(/^Error: Cannot reach the control plane/);

    const noPrebuilt = await cli(['deploy', '.']);
    expect(noPrebuilt.code).toBe(CLI_EXIT_CODES.usage);
  });
});

describe('deploysphere deploy --prebuilt', () => {
  const site = () => join(dir, 'site');
  const files: Record<string, string> = {};
  for (let i = 0; i < 2000; i++)
    files[`assets/${Math.floor(i / 100)}/file-${i}.txt`] = `content of file ${i}\n`;
  files['index.html'] = '<h1>big site v1</h1>';
  let first: z.output<typeof CliDeployResultSchema>;
  let second: z.output<typeof CliDeployResultSchema>;

  it('deploys a 2,000-file folder to two regions, ready and served by the edge, and links the folder', async () => {
    await writeFolder(site(), files);
    const run = await cli([
      'deploy',
      site(),
      '--prebuilt',
      '--prod',
      '--project',
      'cli-big',
      '--region',
      'us-east-1',
      '--region',
      'eu-west-1',
      '--json',
      '--debug',
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    first = oneJson(run, CliDeployResultSchema);
    // Blobs were reported as they landed, and the control plane found them stored meanwhile.
    for (const region of ['us-east-1', 'eu-west-1'])
      expect(run.stderr).toMatch(
        new RegExp(`^debug: ${region}: [1-9]\\d* landed blobs verified, 0 not stored`, 'm'),
      );
    expect(first.deployment).toMatchObject({ status: 'ready', source: 'cli', isProduction: true });
    expect(first.deployment.regions).toEqual(['us-east-1', 'eu-west-1']);
    expect(first.files).toBe(2001);
    expect(first.uploaded.map((u) => [u.region, u.blobs])).toEqual([
      ['us-east-1', 2001],
      ['eu-west-1', 2001],
    ]);
    // Progress went to stderr, as plain lines (no terminal here).
    expect(run.stderr).toMatch(/^Hashing: 2001\/2001 files$/m);
    expect(JSON.parse(await readFile(join(site(), '.deploysphere/project.json'), 'utf8'))).toEqual({
      v: 1,
      project: 'cli-big',
    });
    await servedAt('cli-big.localhost', 'big site v1');
    await servedAt('cli-big.localhost', 'content of file 1999', '/assets/19/file-1999.txt');
  });

  it('uploads exactly one blob per region after one file changed, and never uploads the link', async () => {
    await writeFile(join(site(), 'index.html'), '<h1>big site v2</h1>');
    // No --project: the folder's link names it.
    const run = await cli(['deploy', site(), '--prebuilt', '--prod'], { cwd: site() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Ready: http:\/\/cli-big--/m);
    expect(run.stderr).toMatch(/^us-east-1: uploaded 1 blobs/m);
    expect(run.stderr).toMatch(/^eu-west-1: uploaded 1 blobs/m);
    const ls = oneJson(await cli(['ls', '--json'], { cwd: site() }), z.array(DeploymentViewSchema));
    const latest = ls[0]!;
    expect(latest.stats.uploadedBytes).toBe(2 * Buffer.byteLength('<h1>big site v2</h1>'));
    expect(latest.stats.files).toBe(2001);
    second = { ...first, deployment: latest };
    await servedAt('cli-big.localhost', 'big site v2');
    expect((await t.visit('cli-big.localhost', '/.deploysphere/project.json')).status).toBe(404);
  });

  it('rollback and promote switch what the edge serves', async () => {
    const back = await cli(['rollback', '--project', 'cli-big', '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(oneJson(back, DeploymentViewSchema).id).toBe(first.deployment.id);
    await servedAt('cli-big.localhost', 'big site v1');

    const forward = await cli(['promote', second.deployment.id]);
    expect(forward.code, forward.stderr).toBe(0);
    await servedAt('cli-big.localhost', 'big site v2');
    const inspect = oneJson(await cli(['inspect', second.deployment.id, '--json']), DeploymentViewSchema);
    expect(inspect.isProduction).toBe(true);
  });

  it('after a network failure mid-upload, a second run uploads only what had not landed', async () => {
    const fresh: Record<string, string> = {};
    for (let i = 0; i < 300; i++) fresh[`new/file-${i}.txt`] = `fresh content ${i}\n`;
    await writeFolder(site(), fresh);
    const contents = Object.values(fresh);

    proxy.blobPuts = 0;
    proxy.failAfter = 100;
    const failed = await cli(['deploy', site(), '--prebuilt', '--prod', '--json']);
    proxy.failAfter = undefined;
    expect(failed.code, failed.stderr).toBe(CLI_EXIT_CODES.network);
    expect(oneJson(failed, CliErrorOutputSchema).error.code).toBe('network');
    expect(proxy.cut).toBeGreaterThan(0);
    // Production still serves the last good deployment.
    await servedAt('cli-big.localhost', 'big site v2');

    const landedEu = await storedIn('eu-west-1', contents);
    const landedUs = await storedIn('us-east-1', contents);
    expect(landedEu).toBeGreaterThanOrEqual(100);
    expect(landedEu).toBeLessThan(300);

    const retried = await cli(['deploy', site(), '--prebuilt', '--prod', '--json']);
    expect(retried.code, retried.stderr).toBe(0);
    const result = oneJson(retried, CliDeployResultSchema);
    expect(result.uploaded).toEqual([
      expect.objectContaining({ region: 'us-east-1', blobs: 300 - landedUs }),
      expect.objectContaining({ region: 'eu-west-1', blobs: 300 - landedEu }),
    ]);
    await servedAt('cli-big.localhost', 'fresh content 299', '/new/file-299.txt');
  });

  it('manages env and domains without putting values in argv', async () => {
    const small = join(dir, 'small');
    await writeFolder(small, { 'index.html': '<h1>small site</h1>' });
    const deployed = await cli(['deploy', small, '--prebuilt', '--prod', '--project', 'cli-small']);
    expect(deployed.code, deployed.stderr).toBe(0);

    const add = await cli(['env', 'add', 'API_KEY', '--project', 'cli-small'], {
      stdin: 'super-secret-value\n',
    });
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout + add.stderr).not.toContain('super-secret-value');
    const ls = oneJson(
      await cli(['env', 'ls', '--json'], { cwd: small }),
      z.object({ keys: z.array(z.string()) }),
    );
    expect(ls.keys).toEqual(['API_KEY']);
    const rmEnv = await cli(['env', 'rm', 'API_KEY'], { cwd: small });
    expect(rmEnv.code, rmEnv.stderr).toBe(0);

    const addDomain = await cli(['domains', 'add', 'www.cli-small.example', '--project', 'cli-small']);
    expect(addDomain.code, addDomain.stdout + addDomain.stderr).toBe(0);
    const domains = oneJson(
      await cli(['domains', 'ls', '--project', 'cli-small', '--json']),
      z.object({ domains: z.array(z.string()) }),
    );
    expect(domains.domains).toEqual(['www.cli-small.example']);
    await servedAt('www.cli-small.example', 'small site');
    const rmDomain = await cli(['domains', 'rm', 'www.cli-small.example', '--project', 'cli-small']);
    expect(rmDomain.code, rmDomain.stdout + rmDomain.stderr).toBe(0);

    const projects = oneJson(await cli(['projects', '--json']), z.array(ProjectViewSchema));
    expect(projects.find((p) => p.slug === 'cli-small')).toMatchObject({
      repoUrl: '',
      envKeys: [],
      domains: [],
    });
  });
});

describe('deploysphere logs --follow', () => {
  it("streams a Git build's lines over the websocket until it is ready, then exits 0", async () => {
    const repo = await GitRepo.create({ 'site/index.html': '<h1>from git</h1>' });
    const created = await t.api('POST', '/projects', {
      slug: 'cli-logs',
      repoUrl: repo.url,
      installCommand: 'true',
      buildCommand: 'echo building-the-site-now && mkdir -p dist && cp -r site/. dist/',
      regions: ['us-east-1'],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const queued = await t.api<{ id: string }>('POST', '/projects/cli-logs/deployments', {});
    expect(queued.status).toBe(202);

    const follow = await cli(['logs', queued.body.id, '--follow']);
    expect(follow.code, follow.stdout + follow.stderr).toBe(0);
    expect(follow.stdout).toContain('building-the-site-now');
    expect(follow.stderr).toMatch(/status: ready/);

    // Afterwards, without --follow: the same lines, paged over HTTP; --json is one document.
    const again = await cli(['logs', queued.body.id]);
    expect(again.stdout).toContain('building-the-site-now');
    const summary = oneJson(
      await cli(['logs', queued.body.id, '--follow', '--json']),
      z.object({ status: z.literal('ready'), lines: z.number().int().positive() }),
    );
    expect(summary.lines).toBeGreaterThan(0);
  });
});

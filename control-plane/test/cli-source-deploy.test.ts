import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  CLI_DEPLOY_ERRORS,
  CLI_EXIT_CODES,
  CliDeployResultSchema,
  CliSourceDeployCreatedSchema,
  sourceArchiveKey,
  type DeploymentView,
} from '@deploysphere/contracts';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import { craftTarGz } from '../../build-worker/test/tar-craft.js';
import { oneJson, runCli, servedAt as servedOn, writeFolder } from './cli-runner.js';
import { REPO_ROOT } from './cli-process.js';
import { startTestPlatform, type TestPlatform } from './harness.js';

// Builds in the real sandbox on a shared 2-core machine: each takes seconds to tens of seconds.
vi.setConfig({ testTimeout: 240_000 });

// `deploysphere deploy` without --prebuilt: the built CLI as a child process against the real
// local stack (PostgreSQL, NATS, s3rver, the control plane, build workers in the sandbox, the
// edge in workerd). The attacks on the archive are crafted here with node-tar's Header, uploaded
// through the API's own grant, not through the CLI (which would never pack them).

let t: TestPlatform;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-cli-source-'));
  await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'cli/build.mjs')]);
  t = await startTestPlatform();
}, 240_000);
afterAll(async () => {
  await t?.stop();
  await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[], cwd = dir) => runCli(t, dir, args, { cwd });
const servedAt = (host: string, text: string, path?: string, withinMs?: number) =>
  servedOn(t, host, text, path, withinMs);

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A source deploy through the API: create with `declared`, PUT `uploaded` with the grant, build. */
async function apiSourceDeploy(
  slug: string,
  uploaded: Buffer,
  declared: { sha256: string; size: number } = { sha256: sha256(uploaded), size: uploaded.length },
): Promise<{ id: string; put: z.output<typeof CliSourceDeployCreatedSchema>['put'] }> {
  const created = await t.api('POST', '/cli-deploys/source', {
    slug,
    target: 'production',
    archive: { ...declared, files: 1 },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const { deployment, put } = CliSourceDeployCreatedSchema.parse(created.body);
  const res = await fetch(put.url, { method: 'PUT', headers: put.headers, body: uploaded });
  expect(res.status).toBe(200);
  const built = await t.api<DeploymentView>('POST', `/cli-deploys/${deployment.id}/build`, {});
  expect(built.status, JSON.stringify(built.body)).toBe(200);
  return { id: deployment.id, put };
}

async function archiveStored(id: string): Promise<boolean> {
  const target = t.platform.config.storage[0]!;
  const s3 = createS3Client(target);
  try {
    await s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: sourceArchiveKey(id) }));
    return true;
  } catch {
    return false;
  } finally {
    s3.destroy();
  }
}

describe('deploysphere deploy (source)', () => {
  it('builds a folder with a package.json build script in the sandbox, honouring the ignore files', async () => {
    const app = join(dir, 'app');
    await writeFolder(app, {
      'package.json': JSON.stringify({
        name: 'src-app',
        private: true,
        scripts: { build: 'node build.mjs' },
      }),
      // The build lists what it was given, so the page shows what the archive held.
      'build.mjs': [
        "import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';",
        "const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(d + '/' + e.name).map((p) => e.name + '/' + p) : [e.name]);",
        "const files = walk('.').filter((p) => !p.startsWith('dist/')).sort();",
        "mkdirSync('dist', { recursive: true });",
        "writeFileSync('dist/index.html', readFileSync('src/title.txt', 'utf8') + '<pre>' + files.join('\\n') + '</pre>');",
      ].join('\n'),
      'src/title.txt': '<h1>built from source v1</h1>',
      '.gitignore': 'secret.env\n*.log\ndist/\n',
      'secret.env': 'TOKEN=do-not-upload',
      'debug.log': 'noise',
      'logs/.gitignore': '!keep.log\n',
      'logs/keep.log': 'kept by a nested negation',
      'logs/drop.log': 'still ignored',
      '.deploysphereignore': 'notes/\n',
      'notes/todo.md': 'private notes',
      'node_modules/left-pad/index.js': 'module.exports = 1',
      // A stale local build: ignored, the sandbox builds its own.
      'dist/index.html': '<h1>stale local build</h1>',
    });

    const run = await cli(['deploy', app, '--prod', '--project', 'cli-src', '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const result = oneJson(run, CliDeployResultSchema);
    expect(result.deployment).toMatchObject({ status: 'ready', source: 'cli', isProduction: true });
    expect(result.projectCreated).toBe(true);
    expect(result.archive?.files).toBe(7);
    expect(result.archive?.bytes).toBeGreaterThan(0);
    // The build's log was followed on stderr (stdout holds only the document).
    expect(run.stderr).toMatch(/Source: archive [0-9a-f]{12} uploaded with the CLI/);
    // This machine has bubblewrap: tar ran inside it, as the build's commands do.
    expect(run.stderr).toMatch(/bytes extracted in the sandbox\)/);
    expect(run.stderr).toMatch(/Running: npm run build/);

    const page = await servedAt('cli-src.localhost', 'built from source v1');
    const listed = page.slice(page.indexOf('<pre>') + 5, page.indexOf('</pre>')).split('\n');
    expect(listed).toEqual([
      '.deploysphereignore',
      '.gitignore',
      'build.mjs',
      'logs/.gitignore',
      'logs/keep.log',
      'package.json',
      'src/title.txt',
    ]);
    // The link is written, and never uploaded; the archive is deleted once the deployment is final.
    expect((await stat(join(app, '.deploysphere/project.json'))).isFile()).toBe(true);
    await expect
      .poll(() => archiveStored(result.deployment.id), { timeout: 30_000, interval: 200 })
      .toBe(false);
  });

  it('deploys a folder of plain HTML as a preview, from the folder link', async () => {
    const site = join(dir, 'plain');
    await writeFolder(site, {
      'index.html': '<h1>plain source preview</h1>',
      'about/index.html': 'about us',
    });
    const first = await cli(['deploy', site, '--project', 'cli-plain']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Ready: http:\/\/cli-plain--/m);
    const url = new URL(/^Ready: (\S+)/m.exec(first.stdout)![1]!);
    await servedAt(url.hostname, 'plain source preview');
    await servedAt(url.hostname, 'about us', '/about');

    // A Git deploy of this project is refused: it has no repository.
    const git = await t.api('POST', '/projects/cli-plain/deployments', {});
    expect(git.status).toBe(409);
    expect(git.body).toMatchObject({ error: { code: CLI_DEPLOY_ERRORS.noRepository } });
  });

  it('a build that fails exits 6 with the reason', async () => {
    const broken = join(dir, 'broken');
    await writeFolder(broken, {
      'package.json': JSON.stringify({ name: 'broken', private: true, scripts: { build: 'exit 3' } }),
    });
    const run = await cli(['deploy', broken, '--project', 'cli-broken', '--json']);
    expect(run.code, run.stderr).toBe(CLI_EXIT_CODES.deployFailed);
    expect(oneJson(run, CliDeployResultSchema).deployment.status).toBe('error');
  });
});

describe('the source archive is hostile input', () => {
  it('grants one PUT of sources/<id>.tar.gz, signed over the declared sha256, never replacing', async () => {
    const archive = craftTarGz([{ path: 'index.html', body: 'granted' }]);
    const created = await t.api('POST', '/cli-deploys/source', {
      slug: 'cli-grant',
      archive: { sha256: sha256(archive), size: archive.length, files: 1 },
    });
    expect(created.status).toBe(201);
    const { deployment, put } = CliSourceDeployCreatedSchema.parse(created.body);
    expect(deployment).toMatchObject({ status: 'building', phase: 'upload', source: 'cli' });
    expect(new URL(put.url).pathname).toMatch(new RegExp(`/sources/${deployment.id}\\.tar\\.gz$`));
    expect(put.headers).toMatchObject({
      'x-amz-checksum-sha256': Buffer.from(sha256(archive), 'hex').toString('base64'),
      'if-none-match': '*',
    });
    expect(new URL(put.url).searchParams.get('X-Amz-SignedHeaders')).toMatch(/x-amz-checksum-sha256/);

    // Nothing uploaded yet: no build.
    const early = await t.api('POST', `/cli-deploys/${deployment.id}/build`, {});
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ error: { code: CLI_DEPLOY_ERRORS.archiveMissing } });
    // Bad input names the field, and writes nothing.
    const bad = await t.api('POST', '/cli-deploys/source', {
      slug: 'cli-bad',
      archive: { sha256: 'nope', size: -1, files: 1 },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/archive\.sha256|archive\.size/);
    expect((await t.api('GET', '/projects/cli-bad')).status).toBe(404);

    // Other bytes than declared, of another size: no build either (s3rver took them).
    const shorter = archive.subarray(0, archive.length - 1);
    expect((await fetch(put.url, { method: 'PUT', headers: put.headers, body: shorter })).status).toBe(200);
    const wrongSize = await t.api('POST', `/cli-deploys/${deployment.id}/build`, {});
    expect(wrongSize.status).toBe(409);
    expect(JSON.stringify(wrongSize.body)).toMatch(
      new RegExp(`stored archive has ${shorter.length} bytes, not the ${archive.length} declared`),
    );
    // A cancelled upload cannot be built, and its archive is deleted.
    expect((await t.api('POST', `/deployments/${deployment.id}/cancel`, {})).status).toBe(200);
    const late = await t.api('POST', `/cli-deploys/${deployment.id}/build`, {});
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error: { code: CLI_DEPLOY_ERRORS.notUploading } });
    await expect.poll(() => archiveStored(deployment.id), { timeout: 30_000, interval: 200 }).toBe(false);
  });

  it.each([
    [
      'a "../" path',
      (out: string) => [{ path: `${'../'.repeat(24)}${out.slice(1)}/rel-escape.txt`, body: 'pwned' }],
      /has a "\.\." segment/,
    ],
    [
      'an absolute path',
      (out: string) => [{ path: `${out}/abs-escape.txt`, body: 'pwned' }],
      /is an absolute path/,
    ],
    [
      'a symlink to a host file',
      () => [{ path: 'index.html', type: 'SymbolicLink' as const, linkpath: '/etc/passwd' }],
      /points at an absolute path \(\/etc\/passwd\)/,
    ],
  ])(
    'an archive with %s ends the deployment in error, writing nothing outside',
    async (_name, entries, reason) => {
      const outside = join(dir, 'outside');
      await mkdir(outside, { recursive: true });
      const archive = craftTarGz([{ path: 'ok.html', body: 'fine' }, ...entries(outside)]);
      const { id } = await apiSourceDeploy('cli-attack', archive);
      const d = await t.waitFor(id, ['ready', 'error', 'cancelled']);
      expect(d.status).toBe('error');
      expect(d.error).toMatch(/^Source archive refused: /);
      expect(d.error).toMatch(reason);
      expect(await readdir(outside)).toEqual([]);
      await expect.poll(() => archiveStored(id), { timeout: 30_000, interval: 200 }).toBe(false);
      // Nothing of it is served: the project never got a ready deployment.
      expect((await t.visit('cli-attack.localhost', '/')).body).not.toMatch(/root:x:0:0/);
    },
  );

  it('bytes other than the declared sha256 are refused by the worker (s3rver checks no checksum)', async () => {
    const declared = craftTarGz([{ path: 'index.html', body: '<h1>what the client declared</h1>' }]);
    const swapped = craftTarGz([{ path: 'index.html', body: '<h1>something else entirely!!</h1>' }]);
    const { id } = await apiSourceDeploy('cli-swap', swapped, {
      sha256: sha256(declared),
      size: swapped.length,
    });
    const d = await t.waitFor(id, ['ready', 'error', 'cancelled']);
    expect(d.status).toBe('error');
    expect(d.error).toMatch(/its sha256 is [0-9a-f]{64}, not the [0-9a-f]{64} declared at upload/);
    expect((await t.visit('cli-swap.localhost', '/')).body).not.toContain('something else entirely');
  });
});

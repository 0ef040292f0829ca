// npm run bench:deploy — the deploy pipeline against its own floor, measured side by side in one
// run on this machine: a generated static site of 2,000 files (~20 MB) whose build only copies.
//
//   floor    = git clone + the build command + a raw parallel upload of every byte to the same S3
//   platform = POST /deployments → ready (queue, dispatch, sandbox, clone, install, build, hash,
//              upload, manifests, KV switch)
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import type { DeploymentView } from '@deploysphere/contracts';
import { loadLocalPlatformConfig } from '../control-plane/src/local/config.js';
import { startPlatform } from '../control-plane/src/local/platform.js';

const run = promisify(execFile);
const FILES = 2_000;
const FILE_BYTES = 10 * 1024;
const UPLOAD_CONCURRENCY = 16; // the build worker's default, so the floor uploads the same way
const COPY = 'mkdir -p dist && cp -r site/. dist/';
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'b',
  GIT_AUTHOR_EMAIL: 'b@b',
  GIT_COMMITTER_NAME: 'b',
  GIT_COMMITTER_EMAIL: 'b@b',
};

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const phases = (d: DeploymentView) =>
  Object.entries(d.stats.phaseDurationsMs)
    .map(([k, v]) => `${k} ${seconds(v)}`)
    .join(', ');
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await fn();
  return [value, performance.now() - t0];
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function main() {
  const work = await mkdtemp(join(tmpdir(), 'ds-bench-deploy-'));
  const repo = join(work, 'repo');
  process.stdout.write(`generating ${FILES} files of ${FILE_BYTES / 1024} KB in a git repository...\n`);
  for (let i = 0; i < FILES; i++) {
    const dir = join(repo, 'site', `section-${i % 20}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `page-${i}.html`), randomBytes(FILE_BYTES / 2).toString('hex'));
  }
  await writeFile(join(repo, 'site', 'index.html'), '<h1>bench</h1>');
  await run('git', ['init', '-q', '-b', 'main', repo]);
  await run('git', ['-C', repo, 'add', '-A'], { env: GIT_ENV });
  await run('git', ['-C', repo, 'commit', '-q', '-m', 'site'], { env: GIT_ENV });
  const repoUrl = pathToFileURL(repo).toString();

  const config = loadLocalPlatformConfig({
    DATA_DIR: join(work, 'data'),
    PORT: '0',
    EDGE_PORT: '0',
    LOG_LEVEL: 'error',
    REGIONS: JSON.stringify([{ id: 'us-east-1', name: 'N. Virginia', latitude: 38.9, longitude: -77.4 }]),
  });
  const platform = await startPlatform(config);
  try {
    const target = platform.config.storage[0]!;

    // Floor, step by step, with nothing of the platform in between.
    const floorDir = join(work, 'floor');
    const [, cloneMs] = await timed(() =>
      run('git', ['clone', '-q', '--depth', '1', '--single-branch', repoUrl, floorDir]),
    );
    const [, buildMs] = await timed(() => run('sh', ['-c', COPY], { cwd: floorDir }));
    const files = await listFiles(join(floorDir, 'dist'));
    const s3 = createS3Client(target);
    let totalBytes = 0;
    const [, uploadMs] = await timed(async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: UPLOAD_CONCURRENCY }, async () => {
          while (next < files.length) {
            const file = files[next++]!;
            const body = await readFile(file);
            totalBytes += body.length;
            await s3.send(
              new PutObjectCommand({
                Bucket: target.bucket,
                Key: `bench-floor/${relative(floorDir, file)}`,
                Body: body,
              }),
            );
          }
        }),
      );
    });
    s3.destroy();
    const floorMs = cloneMs + buildMs + uploadMs;

    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${platform.controlPlaneUrl}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return (await res.json()) as T;
    };
    const deployAndWait = async (): Promise<[DeploymentView, number]> =>
      timed(async () => {
        const { id } = await api<DeploymentView>('POST', '/projects/bench-site/deployments', {});
        for (;;) {
          const d = await api<DeploymentView>('GET', `/deployments/${id}`);
          if (d.status === 'ready') return d;
          if (d.status === 'error' || d.status === 'cancelled')
            throw new Error(`deploy ${d.status}: ${d.error}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      });

    await api('POST', '/projects', {
      slug: 'bench-site',
      repoUrl,
      installCommand: 'true',
      buildCommand: COPY,
      regions: ['us-east-1'],
    });
    const [first, deployMs] = await deployAndWait();
    const [again, redeployMs] = await deployAndWait();

    const overhead = deployMs / floorMs - 1;
    const rows: [string, string][] = [
      ['site', `${files.length} files, ${mb(totalBytes)}`],
      ['floor: git clone', seconds(cloneMs)],
      ['floor: build command', seconds(buildMs)],
      [`floor: raw parallel upload (${UPLOAD_CONCURRENCY} at a time)`, seconds(uploadMs)],
      ['floor: total', seconds(floorMs)],
      ['platform: deploy (POST → ready)', seconds(deployMs)],
      [
        'platform: phases',
        Object.entries(first.stats.phaseDurationsMs)
          .map(([k, v]) => `${k} ${seconds(v)}`)
          .join(', '),
      ],
      ['platform: uploaded', mb(first.stats.uploadedBytes)],
      [
        'overhead vs floor',
        `${(overhead * 100).toFixed(1)}% (ratio ${(deployMs / floorMs).toFixed(2)}×, target ≤ 15%)`,
      ],
      [
        'unchanged redeploy',
        `${seconds(redeployMs)} (${(redeployMs / deployMs).toFixed(2)}× the first deploy)`,
      ],
      ['unchanged redeploy: phases', phases(again)],
      ['unchanged redeploy uploaded', `${again.stats.uploadedBytes} bytes (target 0)`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(`\nbench:deploy on ${process.platform}/${process.arch}, node ${process.version}\n`);
    for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
  } finally {
    await platform.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:deploy failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

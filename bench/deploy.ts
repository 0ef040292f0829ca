// npm run bench:deploy — the deploy pipeline against its own floor, measured side by side on this
// machine: a generated static site of 2,000 files (~20 MB) whose build only copies files.
//
//   floor    = git clone + the build command + a raw parallel upload of every byte to the same S3
//   platform = POST /deployments → ready (queue, dispatch, sandbox, clone, install, build, hash,
//              upload, manifests, KV switch)
//
// A second case, at Cloudflare Pages' free limit, drives the worker's upload directly: 20,000
// small files to one region, against a raw parallel upload of the same bytes (its floor), then
// the unchanged redeploy, whose only work is establishing presence (target under 2 s) from the
// earlier manifest, and, for comparison, from a bucket listing alone.
//
// It also measures what build isolation costs: `npm ci` of a real app on the host versus inside
// the sandbox (bench/sandbox-install.ts).
//
// Each round commits fresh random content, so every first deploy uploads every byte; the floor
// and the platform alternate within a round. Medians over BENCH_ROUNDS rounds (default 3) are
// reported, because single runs on a small shared VM vary by tens of percent.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import { buildManifest, hashFiles, uploadDeployment } from '../build-worker/src/upload.js';
import { grantIssuer } from '../build-worker/test/helpers.js';
import type { DeploymentView, StorageTarget } from '@deploysphere/contracts';
import { loadLocalPlatformConfig } from '../control-plane/src/local/config.js';
import { startPlatform, type PlatformHandle } from '../control-plane/src/local/platform.js';
import { benchSandboxInstall } from './sandbox-install.js';

const run = promisify(execFile);
const FILES = 2_000;
const FILE_BYTES = 10 * 1024;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
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
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await fn();
  return [value, performance.now() - t0];
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** New random content for every file, committed: the next deploy must upload all of it. */
async function commitFreshSite(repo: string, round: number): Promise<void> {
  for (let i = 0; i < FILES; i++) {
    const dir = join(repo, 'site', `section-${i % 20}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `page-${i}.html`), randomBytes(FILE_BYTES / 2).toString('hex'));
  }
  await writeFile(join(repo, 'site', 'index.html'), `<h1>bench round ${round}</h1>`);
  await run('git', ['-C', repo, 'add', '-A'], { env: GIT_ENV });
  await run('git', ['-C', repo, 'commit', '-q', '-m', `round ${round}`], { env: GIT_ENV });
}

async function floor(repoUrl: string, dir: string, target: StorageTarget, round: number) {
  const [, cloneMs] = await timed(() =>
    run('git', ['clone', '-q', '--depth', '1', '--single-branch', repoUrl, dir]),
  );
  const [, buildMs] = await timed(() => run('sh', ['-c', COPY], { cwd: dir }));
  const files = await listFiles(join(dir, 'dist'));
  const s3 = createS3Client(target);
  let bytes = 0;
  const [, uploadMs] = await timed(async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: UPLOAD_CONCURRENCY }, async () => {
        while (next < files.length) {
          const file = files[next++]!;
          const body = await readFile(file);
          bytes += body.length;
          const Key = `bench-floor/${round}/${relative(dir, file)}`;
          await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key, Body: body }));
        }
      }),
    );
  });
  s3.destroy();
  return { cloneMs, buildMs, uploadMs, totalMs: cloneMs + buildMs + uploadMs, files: files.length, bytes };
}

function client(platform: PlatformHandle) {
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${platform.controlPlaneUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return (await res.json()) as T;
  };
  const deploy = (): Promise<[DeploymentView, number]> =>
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
  return { api, deploy };
}

const BIG_FILES = Number(process.env.BENCH_BIG_FILES ?? 20_000);
const BIG_FILE_BYTES = 1024;

/** 20,000 files straight through the worker's upload, against a raw upload of the same bytes. */
async function benchBigSite(work: string, target: StorageTarget): Promise<[string, string][]> {
  const dir = join(work, 'big-site');
  for (let i = 0; i < BIG_FILES; i++) {
    const sub = join(dir, `s${i % 100}`);
    if (i < 100) await mkdir(sub, { recursive: true });
    await writeFile(join(sub, `p${i}.html`), randomBytes(BIG_FILE_BYTES / 2).toString('hex'));
  }
  const paths = await listFiles(dir);
  const [hashed, hashMs] = await timed(() =>
    hashFiles(
      paths.map((absolutePath) => ({
        absolutePath,
        path: relative(dir, absolutePath),
        size: BIG_FILE_BYTES,
      })),
    ),
  );
  const logs = { write: () => undefined };
  // The control plane's grant issuer in-process: presence (earlier manifests, listing, HEADs) and
  // the presigned PUTs are its work now, and part of what is measured.
  const issuer = grantIssuer([target]);
  const deployOnce = (id: string, known: string[]) =>
    timed(() =>
      uploadDeployment({
        grants: {
          uploadGrants: (blobs) =>
            issuer.uploadGrants(
              {
                deploymentId: id,
                projectSlug: 'bench-big',
                regions: [target.region],
                previousDeployments: known,
                branch: 'main',
                productionBranch: 'main',
              },
              blobs,
            ),
          cacheRestore: async () => ({ candidates: [] }),
          cacheSave: () => Promise.reject(new Error('no cache in this bench')),
        },
        files: hashed,
        manifest: buildManifest({
          deploymentId: id,
          createdAt: new Date().toISOString(),
          files: hashed,
          redirects: [],
          headers: [],
        }),
        concurrency: UPLOAD_CONCURRENCY,
        logs,
      }),
    );
  const s3 = createS3Client(target);
  const [, floorMs] = await timed(async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: UPLOAD_CONCURRENCY }, async () => {
        while (next < paths.length) {
          const file = paths[next++]!;
          await s3.send(
            new PutObjectCommand({
              Bucket: target.bucket,
              Key: `bench-floor-big/${relative(dir, file)}`,
              Body: await readFile(file),
            }),
          );
        }
      }),
    );
  });
  s3.destroy();
  const first = 'bigsite00000000000000001';
  const [firstResult, firstMs] = await deployOnce(first, []);
  const [known, knownMs] = await deployOnce('bigsite00000000000000002', [first]);
  const [listed, listedMs] = await deployOnce('bigsite00000000000000003', []);
  return [
    ['20k site', `${hashed.length} files of ${BIG_FILE_BYTES} bytes, one region, upload phase only`],
    ['20k: hashing', seconds(hashMs)],
    [`20k floor: raw parallel upload (${UPLOAD_CONCURRENCY} at a time)`, seconds(floorMs)],
    [
      '20k: first upload (presence + PUTs + manifest)',
      `${seconds(firstMs)} (${(firstMs / floorMs).toFixed(2)}× the floor), ${firstResult.uploadedBlobs} blobs`,
    ],
    [
      '20k unchanged: presence from the earlier manifest',
      `${seconds(knownMs)} incl. the manifest write, ${known.uploadedBlobs} blobs sent (target < 2 s)`,
    ],
    [
      '20k unchanged: presence from a listing alone',
      `${seconds(listedMs)}, ${listed.uploadedBlobs} blobs sent`,
    ],
  ];
}

const phases = (d: DeploymentView) =>
  Object.entries(d.stats.phaseDurationsMs)
    .map(([k, v]) => `${k} ${seconds(v)}`)
    .join(', ');

async function main() {
  const install = await benchSandboxInstall(ROUNDS);
  const work = await mkdtemp(join(tmpdir(), 'ds-bench-deploy-'));
  const repo = join(work, 'repo');
  await run('git', ['init', '-q', '-b', 'main', repo]);
  const platform = await startPlatform(
    loadLocalPlatformConfig({
      DATA_DIR: join(work, 'data'),
      PORT: '0',
      EDGE_PORT: '0',
      LOG_LEVEL: 'error',
      REGIONS: JSON.stringify([{ id: 'us-east-1', name: 'N. Virginia', latitude: 38.9, longitude: -77.4 }]),
    }),
  );
  try {
    const target = platform.config.storage[0]!;
    const { api, deploy } = client(platform);
    const repoUrl = pathToFileURL(repo).toString();
    await commitFreshSite(repo, 0);
    await api('POST', '/projects', {
      slug: 'bench-site',
      repoUrl,
      installCommand: 'true',
      buildCommand: COPY,
      regions: ['us-east-1'],
    });

    const rounds: {
      floorMs: number;
      deployMs: number;
      redeployMs: number;
      redeployBytes: number;
      first: DeploymentView;
      again: DeploymentView;
      f: Awaited<ReturnType<typeof floor>>;
    }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await commitFreshSite(repo, round);
      const f = await floor(repoUrl, join(work, `floor-${round}`), target, round);
      const [first, deployMs] = await deploy();
      const [again, redeployMs] = await deploy();
      rounds.push({
        floorMs: f.totalMs,
        deployMs,
        redeployMs,
        redeployBytes: again.stats.uploadedBytes,
        first,
        again,
        f,
      });
      process.stdout.write(
        `round ${round}: floor ${seconds(f.totalMs)}, deploy ${seconds(deployMs)} (${(deployMs / f.totalMs).toFixed(2)}×), unchanged redeploy ${seconds(redeployMs)}, ${again.stats.uploadedBytes} bytes\n`,
      );
    }

    const floorMs = median(rounds.map((r) => r.floorMs));
    const deployMs = median(rounds.map((r) => r.deployMs));
    const redeployMs = median(rounds.map((r) => r.redeployMs));
    const mid = rounds.find((r) => r.deployMs === deployMs)!;
    const ratio = deployMs / floorMs;
    const rows: [string, string][] = [
      ['site', `${mid.f.files} files, ${mb(mid.f.bytes)}; ${ROUNDS} rounds, medians`],
      ['floor: git clone', seconds(median(rounds.map((r) => r.f.cloneMs)))],
      ['floor: build command', seconds(median(rounds.map((r) => r.f.buildMs)))],
      [
        `floor: raw parallel upload (${UPLOAD_CONCURRENCY} at a time)`,
        seconds(median(rounds.map((r) => r.f.uploadMs))),
      ],
      ['floor: total', seconds(floorMs)],
      ['platform: deploy (POST → ready)', seconds(deployMs)],
      ['platform: phases (median round)', phases(mid.first)],
      ['platform: uploaded', mb(mid.first.stats.uploadedBytes)],
      ['overhead vs floor', `${((ratio - 1) * 100).toFixed(1)}% (ratio ${ratio.toFixed(2)}×, target ≤ 15%)`],
      [
        'unchanged redeploy',
        `${seconds(redeployMs)} (${(redeployMs / deployMs).toFixed(2)}× the first deploy)`,
      ],
      ['unchanged redeploy: phases', phases(mid.again)],
      [`npm ci, ${install.packages} packages, empty cache: host`, seconds(install.hostMs)],
      ['npm ci: in the build sandbox (egress proxy)', seconds(install.sandboxMs)],
      [
        'isolation overhead',
        `${((install.sandboxMs / install.hostMs - 1) * 100).toFixed(1)}% (ratio ${(install.sandboxMs / install.hostMs).toFixed(2)}×, target ≤ 10%)`,
      ],
      [
        'unchanged redeploy uploaded',
        `${Math.max(...rounds.map((r) => r.redeployBytes))} bytes, worst round (target 0)`,
      ],
    ];
    rows.push(...(await benchBigSite(work, target)));
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

// npm run bench:cli — `deploysphere deploy --prebuilt` of a 2,000-file, ~20 MB folder to two
// regions, next to its floor, measured side by side on this machine in one run:
//
//   floor = a plain parallel upload of the same files to the same buckets (both regions at once,
//           the same number of PUTs in flight per region as the CLI), as `aws s3 cp` would: the
//           AWS SDK's PutObject. The issue's target is measured against this one.
//   raw   = the same PUTs over the CLI's own HTTP path (presigned URLs, made beforehand and not
//           timed, sent with the build worker's putPresigned): transfer alone, the tightest floor
//   cli   = the built CLI as a child process: hash, manifest, grants, upload of what is missing,
//           finalize (presence check, manifests, route switch) — to `ready`; its create and
//           finalize requests are timed from its --debug lines
//
// Each round writes fresh random content, so every first deploy uploads every byte; floor and CLI
// alternate within a round. Then one file changes and the CLI deploys again (target: under 2 s).
// Medians over BENCH_ROUNDS rounds (default 3).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { putPresigned } from '@deploysphere/build-worker/presigned-http';
import { mapLimit } from '@deploysphere/build-worker/concurrency';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import { CliDeployResultSchema, type StorageTarget } from '@deploysphere/contracts';
import { loadLocalPlatformConfig } from '../control-plane/src/local/config.js';
import { startPlatform, type PlatformHandle } from '../control-plane/src/local/platform.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'cli/bin/deploysphere.js');
const FILES = Number(process.env.BENCH_FILES ?? 2_000);
const FILE_BYTES = 10 * 1024;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const CONCURRENCY = 32; // the CLI's default PUTs in flight per region
const REGIONS = ['us-east-1', 'eu-west-1'];

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await fn();
  return [value, performance.now() - t0];
}

async function writeSite(dir: string): Promise<string[]> {
  await rm(dir, { recursive: true, force: true });
  const paths: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const path = `assets/${Math.floor(i / 100)}/f-${i}.bin`;
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), randomBytes(FILE_BYTES));
    paths.push(path);
  }
  await writeFile(join(dir, 'index.html'), `<h1>${randomBytes(8).toString('hex')}</h1>`);
  paths.push('index.html');
  return paths;
}

/** The floor: every file PUT to every region's bucket, CONCURRENCY at a time per region. */
async function floor(dir: string, paths: string[], targets: StorageTarget[], round: number): Promise<number> {
  const [, ms] = await timed(() =>
    Promise.all(
      targets.map(async (target) => {
        const s3 = createS3Client(target);
        await mapLimit(paths, CONCURRENCY, async (path) => {
          const Body = await readFile(join(dir, path));
          await s3.send(
            new PutObjectCommand({ Bucket: target.bucket, Key: `bench-floor/${round}/${path}`, Body }),
          );
        });
        s3.destroy();
      }),
    ),
  );
  return ms;
}

/** The raw floor: the same PUTs as the CLI sends them, to presigned URLs made beforehand. */
async function rawFloor(
  dir: string,
  paths: string[],
  targets: StorageTarget[],
  round: number,
): Promise<number> {
  const signed = await Promise.all(
    targets.map(async (target) => {
      const s3 = createS3Client(target);
      const urls: string[] = [];
      for (const path of paths)
        urls.push(
          await getSignedUrl(
            s3,
            new PutObjectCommand({ Bucket: target.bucket, Key: `bench-raw/${round}/${path}` }),
            { expiresIn: 3600 },
          ),
        );
      s3.destroy();
      return urls;
    }),
  );
  const [, ms] = await timed(() =>
    Promise.all(
      signed.map((urls) =>
        mapLimit(paths, CONCURRENCY, async (path, i) => {
          const body = await readFile(join(dir, path));
          await putPresigned({ method: 'PUT', url: urls[i]!, headers: {} }, body, body.length);
        }),
      ),
    ),
  );
  return ms;
}

/** The CLI's create and finalize request times, from its --debug lines. */
function requestTimes(stderr: string): { createMs: number; finalizeMs: number } {
  const times = (path: RegExp) => {
    const m = new RegExp(`debug: POST \\S*${path.source}\\ndebug: → \\d+ \\(\\d+ bytes, (\\d+) ms\\)`).exec(
      stderr,
    );
    return m ? Number(m[1]) : NaN;
  };
  return { createMs: times(/\/cli-deploys/), finalizeMs: times(/\/cli-deploys\/[a-z0-9]+\/finalize/) };
}

function cli(
  platform: PlatformHandle,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: tmpdir(),
      DEPLOYSPHERE_URL: platform.controlPlaneUrl,
      DEPLOYSPHERE_TOKEN: platform.adminToken,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (process.env.BENCH_DEBUG) process.stderr.write(c);
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

async function deploy(platform: PlatformHandle, dir: string, project: string) {
  const [run, ms] = await timed(() =>
    cli(platform, [
      'deploy',
      dir,
      '--prebuilt',
      '--prod',
      '--project',
      project,
      ...REGIONS.flatMap((r) => ['--region', r]),
      '--json',
      '--debug',
    ]),
  );
  if (run.code !== 0) throw new Error(`deploy exited ${run.code}: ${run.stdout}\n${run.stderr}`);
  return { result: CliDeployResultSchema.parse(JSON.parse(run.stdout)), ms, ...requestTimes(run.stderr) };
}

async function main() {
  await promisify(execFile)(process.execPath, [join(ROOT, 'cli/build.mjs')]);
  const work = await mkdtemp(join(tmpdir(), 'ds-bench-cli-'));
  const platform = await startPlatform(
    loadLocalPlatformConfig({ DATA_DIR: join(work, 'data'), PORT: '0', EDGE_PORT: '0', LOG_LEVEL: 'error' }),
  );
  try {
    const targets = REGIONS.map((r) => platform.config.storage.find((s) => s.region === r)!);
    const rounds: {
      floorMs: number;
      rawMs: number;
      cliMs: number;
      createMs: number;
      finalizeMs: number;
      changeMs: number;
    }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const dir = join(work, `site-${round}`);
      const paths = await writeSite(dir);
      const floorMs = await floor(dir, paths, targets, round);
      const rawMs = await rawFloor(dir, paths, targets, round);
      const first = await deploy(platform, dir, `bench-cli-${round}`);
      await writeFile(join(dir, 'index.html'), `<h1>changed ${randomBytes(8).toString('hex')}</h1>`);
      const change = await deploy(platform, dir, `bench-cli-${round}`);
      rounds.push({
        floorMs,
        rawMs,
        cliMs: first.ms,
        createMs: first.createMs,
        finalizeMs: first.finalizeMs,
        changeMs: change.ms,
      });
      process.stderr.write(
        `round ${round}: floor ${seconds(floorMs)}, raw ${seconds(rawMs)}, cli ${seconds(first.ms)} (${(first.ms / floorMs).toFixed(2)}× floor, ${(first.ms / rawMs).toFixed(2)}× raw; create ${seconds(first.createMs)}, finalize ${seconds(first.finalizeMs)}), one-file change ${seconds(change.ms)} uploading ${change.result.uploaded.map((u) => `${u.blobs} to ${u.region}`).join(', ')}\n`,
      );
    }
    const floorMs = median(rounds.map((r) => r.floorMs));
    const rawMs = median(rounds.map((r) => r.rawMs));
    const cliMs = median(rounds.map((r) => r.cliMs));
    const changeMs = median(rounds.map((r) => r.changeMs));
    const rows: [string, string][] = [
      [
        'site',
        `${FILES + 1} files, ${((FILES * FILE_BYTES) / 1024 / 1024).toFixed(1)} MB, regions ${REGIONS.join(' + ')}`,
      ],
      [`floor: plain parallel upload, SDK PutObject (${CONCURRENCY} per region)`, seconds(floorMs)],
      ["raw floor: the same PUTs presigned, over the CLI's HTTP path", seconds(rawMs)],
      ['deploysphere deploy --prebuilt (child process, to ready)', seconds(cliMs)],
      [
        '  of which create / finalize requests',
        `${seconds(median(rounds.map((r) => r.createMs)))} / ${seconds(median(rounds.map((r) => r.finalizeMs)))}`,
      ],
      [
        'overhead vs floor',
        `${((cliMs / floorMs - 1) * 100).toFixed(1)}% (ratio ${(cliMs / floorMs).toFixed(2)}×, target ≤ 15%)`,
      ],
      [
        'overhead vs raw floor',
        `${((cliMs / rawMs - 1) * 100).toFixed(1)}% (ratio ${(cliMs / rawMs).toFixed(2)}×)`,
      ],
      ['one-file change, to ready', `${seconds(changeMs)} (target < 2 s)`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(`\nbench:cli — medians of ${ROUNDS} round(s)\n`);
    for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
  } finally {
    await platform.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();

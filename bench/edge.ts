/**
 * `npm run bench:edge`: what the edge costs and saves on the local stack, on loopback only.
 *
 *   (a) origin: GET straight from the region's S3 server (s3rver), the floor any edge starts from
 *   (b) edge, cold cache: through the worker in workerd, every request a blob the edge has not seen
 *   (c) edge, hot cache: through the worker, the same file again and again
 *
 * for a 10 KB fingerprinted asset and for an HTML page. Then a longer hot-path run, like the load
 * run of issue 10, reports how many answers were not a 200. The edge runs as `npm start` runs it:
 * KV on disk and metric batches shipped. Loops are bounded, and everything started here is stopped
 * in `finally`, also on Ctrl-C.
 */
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobKey, DEFAULT_REGIONS, productionHost } from '@deploysphere/contracts';
import { S3RVER_CREDENTIALS, startS3rver } from '@deploysphere/stack';
import { startLocalEdge } from '../edge/src/node/local-edge.js';
import { publishDeployment, sha256, type SiteFile } from '../edge/test/support/deployments.js';
import { runLoad } from '../edge/test/support/http-load.js';

const BUCKET = 'bench-sites';
const ROOT_DOMAIN = 'bench.localhost';
const HOST = productionHost('bench', ROOT_DOMAIN);
const CONCURRENCY = 8;
const HOT_REQUESTS = 3000;
const COLD_REQUESTS = 400;
const WARMUP = 200;
/** The held-out load run of issue 10: one cached 10 KB asset, keep-alive, 16 in flight. */
const LONG_RUN = { requests: 30_000, concurrency: 16 };
/** A bound on each loop, not a target. */
const RUN_DEADLINE_MS = 10 * 60_000;

interface Result {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Answers that were not a 200, socket errors and timeouts included. */
  errors: number;
  outcomes: Map<string, number>;
}

/** Requests `path(i)` for i < requests, with `concurrency` requests in flight. */
async function run(
  name: string,
  base: URL,
  path: (i: number) => string,
  requests: number,
  host?: string,
  concurrency = CONCURRENCY,
): Promise<Result> {
  const load = await runLoad({
    baseUrl: base.origin,
    host,
    path,
    requests,
    concurrency,
    deadlineMs: RUN_DEADLINE_MS,
  });
  const latencies = load.latenciesMs.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return {
    name,
    requests: load.sent,
    rps: load.sent / load.seconds,
    p50: pct(50),
    p99: pct(99),
    errors: load.errors,
    outcomes: load.outcomes,
  };
}

const describeErrors = (r: Result) => {
  const failures = [...r.outcomes].filter(([key]) => key !== '200');
  return failures.length === 0 ? '' : ` (${failures.map(([key, n]) => `${n}× ${key}`).join(', ')})`;
};

const html = (i: number) =>
  `<!doctype html><html><head><title>Page ${i}</title></head><body>${'<p>lorem ipsum dolor sit amet</p>'.repeat(40)}<!-- ${i} --></body></html>`;
const asset = (i: number) => `/* ${String(i).padStart(8, '0')} */${'x'.repeat(10 * 1024 - 14)}`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-edge-'));
  const stops: (() => Promise<void>)[] = [async () => rm(dir, { recursive: true, force: true })];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const s3 = await startS3rver({ directory: join(dir, 's3'), buckets: [BUCKET] });
    stops.push(() => s3.stop());
    const region = DEFAULT_REGIONS[0];
    if (!region) throw new Error('no default region');

    // One deployment: a hot page and asset, plus enough distinct ones that cold runs never repeat.
    const files: SiteFile[] = [
      { path: 'index.html', body: html(0) },
      { path: 'assets/app.1a2b3c4d.js', body: asset(0) },
    ];
    for (let i = 1; i <= COLD_REQUESTS; i++) {
      files.push({ path: `pages/p${i}.html`, body: html(i) });
      files.push({ path: `assets/chunk-${i}.1a2b3c4d.js`, body: asset(i) });
    }
    process.stdout.write(`publishing ${files.length} files to s3rver... `);
    const manifest = await publishDeployment([{ endpoint: s3.endpoint, bucket: BUCKET }], { files });
    console.log('done');

    // Metric batches go to a sink that accepts them, every 2 s as under `npm start`.
    const metricsSink = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => metricsSink.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => metricsSink.close(() => resolve())));

    const edge = await startLocalEdge({
      port: 0,
      rootDomain: ROOT_DOMAIN,
      devMode: false,
      kvPersistDir: join(dir, 'edge-kv'),
      regions: [{ ...region, endpoint: s3.endpoint, bucket: BUCKET }],
      s3Credentials: { ...S3RVER_CREDENTIALS },
      metricsUrl: `http://127.0.0.1:${(metricsSink.address() as AddressInfo).port}`,
      metricsToken: 'bench-edge-metrics-token',
      metricsFlushIntervalMs: 2000,
    });
    stops.push(() => edge.stop());
    await edge.routes.put(HOST, {
      v: 1,
      kind: 'production',
      deploymentId: manifest.deploymentId,
      projectSlug: 'bench',
      regions: [region.id],
      updatedAt: new Date().toISOString(),
    });

    const origin = new URL(s3.endpoint);
    const edgeUrl = new URL(edge.url);
    const blobPath = (body: string) => `/${BUCKET}/${blobKey(sha256(body))}`;
    const same = (path: string) => () => path;
    const coldPath = (kind: 'page' | 'asset') => (i: number) =>
      kind === 'page' ? `/pages/p${i + 1}` : `/assets/chunk-${i + 1}.1a2b3c4d.js`;

    // Warm sockets, the route, the manifest and the hot files; none of it is measured.
    await run('warmup', origin, same(blobPath(asset(0))), WARMUP);
    await run('warmup', edgeUrl, same('/'), WARMUP, HOST);
    await run('warmup', edgeUrl, same('/assets/app.1a2b3c4d.js'), WARMUP, HOST);

    const results: Record<string, Result[]> = {
      '10 KB asset': [
        await run('(a) origin', origin, same(blobPath(asset(0))), HOT_REQUESTS),
        await run('(b) edge, cold cache', edgeUrl, coldPath('asset'), COLD_REQUESTS, HOST),
        await run('(c) edge, hot cache', edgeUrl, same('/assets/app.1a2b3c4d.js'), HOT_REQUESTS, HOST),
      ],
      'index.html': [
        await run('(a) origin', origin, same(blobPath(html(0))), HOT_REQUESTS),
        await run('(b) edge, cold cache', edgeUrl, coldPath('page'), COLD_REQUESTS, HOST),
        await run('(c) edge, hot cache', edgeUrl, same('/'), HOT_REQUESTS, HOST),
      ],
    };
    const long = await run(
      '(d) edge, hot, long run',
      edgeUrl,
      same('/assets/app.1a2b3c4d.js'),
      LONG_RUN.requests,
      HOST,
      LONG_RUN.concurrency,
    );

    console.log(`\nedge benchmark: loopback, ${CONCURRENCY} concurrent requests, keep-alive`);
    for (const [file, [a, b, c]] of Object.entries(results)) {
      if (!a || !b || !c) continue;
      console.log(`\n${file}`);
      console.log(
        `  ${'scenario'.padEnd(22)} ${'requests'.padStart(8)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)}`,
      );
      for (const r of [a, b, c]) {
        console.log(
          `  ${r.name.padEnd(22)} ${String(r.requests).padStart(8)} ${r.rps.toFixed(0).padStart(9)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${String(r.errors).padStart(7)}`,
        );
      }
      console.log(
        `  throughput b/a = ${(b.rps / a.rps).toFixed(2)}x, c/a = ${(c.rps / a.rps).toFixed(2)}x (target c/a >= 1.0x)`,
      );
      console.log(
        `  p50 added by the edge: cold ${(b.p50 - a.p50).toFixed(2)} ms, hot ${(c.p50 - a.p50).toFixed(2)} ms (target hot <= 2 ms)`,
      );
    }
    console.log(
      `\nlong run, 10 KB asset, hot: ${long.requests} requests, ${LONG_RUN.concurrency} concurrent, ${long.rps.toFixed(0)} req/s`,
    );
    console.log(`  errors: ${long.errors} of ${long.requests} not a 200${describeErrors(long)} (target 0)`);
  } finally {
    await stopAll();
  }
}

await main();

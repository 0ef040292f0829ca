/**
 * `npm run bench:protected-previews`: what protection costs at the edge, in workerd, on loopback.
 *
 *   (a) baseline: an edge with no protection configured at all, serving a public host
 *   (b) public host: an edge with the signing key, serving a host whose record has no protection
 *   (c) protected host: the same edge, a protected host, with a valid cookie (one HMAC verify)
 *
 * (a) against (b) checks the claim that unprotected sites pay nothing: same path, one property test.
 * (c) shows what a protected host adds. Each round runs every variant in turn; medians over rounds.
 * Everything started here is stopped in `finally`, also on Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_REGIONS,
  importProtectionKey,
  PROTECTION_COOKIE,
  signProtectionToken,
  type RouteRecord,
} from '@deploysphere/contracts';
import { S3RVER_CREDENTIALS, startS3rver } from '@deploysphere/stack';
import { startLocalEdge, type LocalEdge } from '../edge/src/node/local-edge.js';
import { publishDeployment } from '../edge/test/support/deployments.js';
import { runLoad } from '../edge/test/support/http-load.js';

const BUCKET = 'bench-sites';
const ROOT_DOMAIN = 'bench.localhost';
const PUBLIC_HOST = `open.${ROOT_DOMAIN}`;
const PROTECTED_HOST = `guarded.${ROOT_DOMAIN}`;
const ROUNDS = 5;
const REQUESTS = 2000;
const WARMUP = 300;
const CONCURRENCY = 8;
const RUN_DEADLINE_MS = 5 * 60_000;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

async function measure(edge: LocalEdge, host: string, headers: Record<string, string>, requests: number) {
  const load = await runLoad({
    baseUrl: edge.url,
    host,
    headers,
    path: () => '/assets/app.1a2b3c4d.js',
    requests,
    concurrency: CONCURRENCY,
    deadlineMs: RUN_DEADLINE_MS,
  });
  if (load.errors > 0)
    throw new Error(`${host}: ${load.errors} answers were not 200: ${load.samples.join('; ')}`);
  const sorted = load.latenciesMs.sort((a, b) => a - b);
  return { rps: load.sent / load.seconds, p50: sorted[Math.floor(sorted.length / 2)] ?? 0 };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-protection-'));
  const stops: (() => Promise<void>)[] = [async () => rm(dir, { recursive: true, force: true })];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const s3 = await startS3rver({ directory: join(dir, 's3'), buckets: [BUCKET] });
    stops.push(() => s3.stop());
    const region = DEFAULT_REGIONS[0]!;
    const manifest = await publishDeployment([{ endpoint: s3.endpoint, bucket: BUCKET }], {
      files: [{ path: 'assets/app.1a2b3c4d.js', body: 'x'.repeat(10 * 1024) }],
    });
    const secret = randomBytes(32).toString('base64url');
    const common = {
      port: 0,
      rootDomain: ROOT_DOMAIN,
      devMode: false,
      regions: [{ ...region, endpoint: s3.endpoint, bucket: BUCKET }],
      s3Credentials: { ...S3RVER_CREDENTIALS },
    };
    const baseline = await startLocalEdge(common);
    stops.push(() => baseline.stop());
    const withKey = await startLocalEdge({
      ...common,
      protection: { signingKey: secret, authUrl: 'http://127.0.0.1:9' },
    });
    stops.push(() => withKey.stop());
    const record: RouteRecord = {
      v: 1,
      kind: 'deployment',
      deploymentId: manifest.deploymentId,
      projectSlug: 'bench',
      regions: [region.id],
      updatedAt: new Date().toISOString(),
    };
    await baseline.routes.put(PUBLIC_HOST, record);
    await withKey.routes.put(PUBLIC_HOST, record);
    await withKey.routes.put(PROTECTED_HOST, { ...record, protection: { epoch: 0 } });
    const cookie = await signProtectionToken(await importProtectionKey(secret), {
      k: 'cookie',
      h: PROTECTED_HOST,
      e: Math.floor(Date.now() / 1000) + 3600,
      p: 0,
    });

    const variants = [
      { name: '(a) baseline edge, public host', edge: baseline, host: PUBLIC_HOST, headers: {} },
      { name: '(b) edge with key, public host', edge: withKey, host: PUBLIC_HOST, headers: {} },
      {
        name: '(c) protected host + cookie',
        edge: withKey,
        host: PROTECTED_HOST,
        headers: { cookie: `${PROTECTION_COOKIE}=${cookie}` },
      },
    ];
    for (const v of variants) await measure(v.edge, v.host, v.headers, WARMUP);
    const results = variants.map(() => ({ rps: [] as number[], p50: [] as number[] }));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [i, v] of variants.entries()) {
        const r = await measure(v.edge, v.host, v.headers, REQUESTS);
        results[i]!.rps.push(r.rps);
        results[i]!.p50.push(r.p50);
      }
      process.stdout.write(`round ${round}/${ROUNDS} done\n`);
    }
    const base = { rps: median(results[0]!.rps), p50: median(results[0]!.p50) };
    console.log(
      `\nhot 10 KB asset, ${REQUESTS} requests × ${ROUNDS} rounds, ${CONCURRENCY} in flight; medians over rounds\n`,
    );
    console.log(
      `${'variant'.padEnd(34)}${'req/s'.padStart(10)}${'p50 ms'.padStart(10)}${'req/s vs (a)'.padStart(15)}`,
    );
    for (const [i, v] of variants.entries()) {
      const rps = median(results[i]!.rps);
      const p50 = median(results[i]!.p50);
      console.log(
        `${v.name.padEnd(34)}${rps.toFixed(0).padStart(10)}${p50.toFixed(2).padStart(10)}${`${(rps / base.rps).toFixed(2)}×`.padStart(15)}`,
      );
    }
  } finally {
    await stopAll();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

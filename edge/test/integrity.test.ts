import { randomBytes } from 'node:crypto';
import { blobKey, productionHost } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEdge } from '../src/node/local-edge.js';
import { putObject, sha256 } from './support/deployments.js';
import { rawRequest } from './support/http-client.js';
import { startMetricsControlPlane, type MetricsControlPlane } from './support/metrics-control-plane.js';
import { ROOT_DOMAIN, startTestStack, type TestStack } from './support/test-stack.js';

const LONDON = '51.51,-0.13';
/** Above the isolate-memory limit (512 KiB): the path that used to stream through unchecked. */
const LARGE = 700 * 1024;
const SMALL = 2 * 1024;

let stack: TestStack;
let controlPlane: MetricsControlPlane;
let counter = 0;

beforeAll(async () => {
  controlPlane = await startMetricsControlPlane('edge-integrity-metrics-token');
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
  await controlPlane?.stop();
});

/**
 * A fresh edge per case, shipping a batch after every request: no region penalties, isolate
 * memory or Cache API entries left over from another case.
 */
const freshEdge = () =>
  stack.startEdge({
    metricsUrl: controlPlane.url,
    metricsToken: controlPlane.token,
    metricsFlushIntervalMs: 0,
  });

/** Distinct bytes per case, so no cache anywhere already holds them. */
function content(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(randomBytes(Math.min(size, 64)));
  return bytes;
}

/** Other bytes of the same length: only the hash can tell them apart. */
const poisoned = (bytes: Uint8Array) => bytes.map((b) => b ^ 0xff);

/** Deploys one file and overwrites its blob in `poisonedRegion` with other bytes. */
async function deployPoisoned(size: number, poisonedRegion: string, regions?: string[]) {
  const host = productionHost(`integrity-${++counter}`, ROOT_DOMAIN);
  const body = content(size);
  await stack.deploy([host], { files: [{ path: 'file.bin', body }] }, { regions });
  await putObject(stack.region(poisonedRegion).direct, blobKey(sha256(body)), poisoned(body));
  return { host, body };
}

async function integrityFailures(region: string): Promise<number> {
  const text = await controlPlane.registry.metrics();
  const match = new RegExp(`^edge_integrity_failures_total\\{region="${region}"\\} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

const get = (edge: LocalEdge, host: string, headers: Record<string, string> = {}) =>
  rawRequest(edge.url, { host, path: '/file.bin', headers: { 'x-deploysphere-geo': LONDON, ...headers } });

describe('blob integrity', () => {
  it.each([
    ['small', SMALL],
    ['large', LARGE],
  ])(
    'never serves a %s blob with other bytes in the nearest region: fails over, serves the right bytes, counts it',
    async (_kind, size) => {
      const edge = await freshEdge();
      const { host, body } = await deployPoisoned(size, 'eu-west-1');
      const before = await integrityFailures('eu-west-1');

      const res = await get(edge, host);
      expect(res.status).toBe(200);
      expect(res.headers['x-deploysphere-region']).toBe('us-east-1');
      expect(sha256(res.body)).toBe(sha256(body));
      await expect.poll(() => integrityFailures('eu-west-1'), { timeout: 10_000 }).toBe(before + 1);

      // What the edge cached is the verified copy; a byte range is cut from it too.
      const again = await get(edge, host, { range: 'bytes=0-99' });
      expect(again.status).toBe(206);
      expect(again.headers['x-deploysphere-cache']).toBe('hit');
      expect(again.body.equals(Buffer.from(body.subarray(0, 100)))).toBe(true);
    },
  );

  it.each([
    ['small', SMALL],
    ['large', LARGE],
  ])(
    'answers 502 when the only region has other bytes under a %s blob key, and caches nothing',
    async (_kind, size) => {
      const edge = await freshEdge();
      const { host } = await deployPoisoned(size, 'us-east-1', ['us-east-1']);
      const before = await integrityFailures('us-east-1');
      const proxy = stack.region('us-east-1').proxy;
      const blobReads = () => proxy.hits.filter((path) => path.includes('/blobs/')).length;
      const readsBefore = blobReads();

      for (let i = 0; i < 2; i++) {
        const res = await get(edge, host, { accept: 'application/json' });
        expect(res.status).toBe(502);
        expect(JSON.parse(res.body.toString())).toEqual({
          error: { code: 'bad_gateway', message: 'Internal error' },
        });
      }
      // Nothing was cached: the second request went back to the region and failed the check again.
      expect(blobReads() - readsBefore).toBe(2);
      await expect.poll(() => integrityFailures('us-east-1'), { timeout: 10_000 }).toBe(before + 2);
    },
  );

  it('answers 502 for a file larger than the edge verifies, without reading it', async () => {
    const edge = await freshEdge();
    const host = productionHost(`integrity-${++counter}`, ROOT_DOMAIN);
    await stack.deploy(
      [host],
      { files: [{ path: 'file.bin', body: content(25 * 1024 * 1024 + 1) }] },
      { regions: ['us-east-1'] },
    );
    const proxy = stack.region('us-east-1').proxy;
    const blobReads = proxy.hits.filter((path) => path.includes('/blobs/')).length;
    const res = await get(edge, host);
    expect(res.status).toBe(502);
    expect(proxy.hits.filter((path) => path.includes('/blobs/')).length).toBe(blobReads);
  });
});

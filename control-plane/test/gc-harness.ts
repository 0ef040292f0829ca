import { createHash, randomBytes } from 'node:crypto';
import { utimes } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import { blobKey, manifestKey, type Manifest, type StorageTarget } from '@deploysphere/contracts';
import { startS3rver, S3RVER_CREDENTIALS, type EmbeddedS3 } from '@deploysphere/stack';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { startPipelineHarness, type PipelineHarness } from './pipeline-harness.js';
import type { GcBucket } from '../src/storage-gc/index.js';
import type { GcSettings } from '../src/storage-gc/gc-service.js';

export const REGIONS = ['us-east-1', 'eu-west-1'] as const;
export const BUCKET = 'sites';
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const gcSettings = (over: Partial<GcSettings> = {}): GcSettings => ({
  graceMs: HOUR,
  leaseMs: 60_000,
  intervalMs: HOUR,
  pageSize: 1000,
  defaults: { retainReadyPerBranch: 10, previewMaxAgeDays: 30, buildCacheExpiryDays: 7 },
  ...over,
});

export const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** One region's s3rver, its data directory (to age objects) and a client with the control plane's credentials. */
export interface GcRegion {
  region: string;
  s3: EmbeddedS3;
  dir: string;
  target: StorageTarget;
  client: S3Client;
}

export async function startRegions(root: string): Promise<GcRegion[]> {
  return Promise.all(
    REGIONS.map(async (region) => {
      const dir = join(root, `s3-${region}`);
      const s3 = await startS3rver({ directory: dir, buckets: [BUCKET] });
      const target: StorageTarget = {
        region,
        endpoint: s3.endpoint,
        bucket: BUCKET,
        forcePathStyle: true,
        ...S3RVER_CREDENTIALS,
      };
      const client = createS3Client(target);
      return { region, s3, dir, target, client };
    }),
  );
}

/** What a storage test runs on: PostgreSQL and KV (the pipeline harness) and the regions' s3rvers. */
export interface StorageStack {
  h: PipelineHarness;
  regions: GcRegion[];
  dir: string;
  stop(): Promise<void>;
}

export async function startStorageStack(prefix: string): Promise<StorageStack> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const [h, regions] = await Promise.all([startPipelineHarness(), startRegions(dir)]);
  return {
    h,
    regions,
    dir,
    async stop() {
      for (const r of regions) {
        r.client.destroy();
        await r.s3.stop();
      }
      await h.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/**
 * One bucket of the given name in every region, created fresh for a test, so what a test's
 * collection sees is only what the test put there.
 */
export class TestBuckets {
  private constructor(
    readonly regions: readonly GcRegion[],
    readonly name: string,
  ) {}

  static async create(regions: readonly GcRegion[], name: string): Promise<TestBuckets> {
    for (const r of regions) await r.client.send(new CreateBucketCommand({ Bucket: name }));
    return new TestBuckets(regions, name);
  }

  get gcBuckets(): GcBucket[] {
    return this.regions.map((r) => ({ region: r.region, client: r.client, bucket: this.name }));
  }

  region(id: string): GcRegion {
    return this.regions.find((r) => r.region === id)!;
  }

  /** Sets an object's Last-Modified back by `ms` (s3rver reports the file's mtime). */
  async age(region: string, key: string, ms: number): Promise<void> {
    const t = new Date(Date.now() - ms);
    await utimes(join(this.region(region).dir, this.name, `${key}._S3rver_object`), t, t);
  }

  async put(region: string, key: string, body: string, ageMs = 0): Promise<void> {
    await this.region(region).client.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: body }));
    if (ageMs > 0) await this.age(region, key, ageMs);
  }

  /** A blob of `content` in each of `regions` (default: all), `ageMs` old; returns its hash. */
  async blob(content: string, opts: { ageMs?: number; regions?: readonly string[] } = {}): Promise<string> {
    const hash = sha256(content);
    for (const region of opts.regions ?? this.regions.map((r) => r.region))
      await this.put(region, blobKey(hash), content, opts.ageMs ?? 2 * DAY);
    return hash;
  }

  /** A deployment's manifest listing `hashes`, in each of `regions` (default: all). */
  async manifest(
    deploymentId: string,
    hashes: readonly string[],
    opts: { ageMs?: number; regions?: readonly string[] } = {},
  ): Promise<void> {
    const manifest: Manifest = {
      v: 1,
      deploymentId,
      createdAt: new Date().toISOString(),
      files: Object.fromEntries(
        hashes.map((hash, i) => [`f${i}.txt`, { hash, size: 32, contentType: 'text/plain' }]),
      ),
      redirects: [],
      headers: [],
    };
    for (const region of opts.regions ?? this.regions.map((r) => r.region))
      await this.put(region, manifestKey(deploymentId), JSON.stringify(manifest), opts.ageMs ?? 2 * DAY);
  }

  async text(region: string, key: string): Promise<string> {
    const res = await this.region(region).client.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
    return res.Body!.transformToString();
  }

  async exists(region: string, key: string): Promise<boolean> {
    try {
      await this.region(region).client.send(new HeadObjectCommand({ Bucket: this.name, Key: key }));
      return true;
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
        return false;
      throw err;
    }
  }

  /** Whether the key exists in every region (true), in none (false); throws when they differ. */
  async everywhere(key: string): Promise<boolean> {
    const found = await Promise.all(this.regions.map((r) => this.exists(r.region, key)));
    if (found.some((f) => f !== found[0])) throw new Error(`${key} is in some regions only: ${found}`);
    return found[0]!;
  }
}

export const uniqueContent = () => randomBytes(16).toString('hex');

/** Waits for `check` to hold, polling, and fails with `what` after the deadline. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A pass-through proxy in front of one s3rver that can hold requests matching a predicate until
 * released: the way a test stops garbage collection at an exact point of its sweep. Headers go
 * through unchanged, Host included, so the SigV4 signature still verifies upstream.
 */
export interface GatedProxy {
  endpoint: string;
  /** Holds the `nth` (1-based) request matching `match`, and every one after it, until released. */
  hold(match: (req: IncomingMessage) => boolean, nth?: number): { reached: Promise<void>; release(): void };
  /** Requests seen, as "METHOD url". */
  seen: string[];
  stop(): Promise<void>;
}

export async function startGatedProxy(upstream: string): Promise<GatedProxy> {
  const up = new URL(upstream);
  let gate:
    | {
        match: (req: IncomingMessage) => boolean;
        nth: number;
        count: number;
        open: Promise<void>;
        reach(): void;
      }
    | undefined;
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const forward = () => {
      const out = httpRequest(
        { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      req.pipe(out);
    };
    const g = gate;
    if (g && g.match(req) && ++g.count >= g.nth) {
      g.reach();
      req.pause();
      void g.open.then(forward);
    } else forward();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    hold(match, nth = 1) {
      let reach!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((r) => (reach = r));
      const open = new Promise<void>((r) => (release = r));
      gate = { match, nth, count: 0, open, reach };
      return {
        reached,
        release() {
          gate = undefined;
          release();
        },
      };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** s3rver's DeleteObjects: `POST /<bucket>?delete`. */
export const isDeleteObjects = (req: IncomingMessage) =>
  req.method === 'POST' && /[?&]delete(=|&|$)/.test(req.url ?? '');

/** A listing under `blobs/`. */
export const isBlobListing = (req: IncomingMessage) =>
  req.method === 'GET' && /[?&]prefix=blobs%2F/.test(req.url ?? '');

/**
 * Cloudflare's KV REST API, stood in for at its HTTP boundary (as in
 * cloudflare-kv-route-store.test.ts), so a garbage collector in another process can delete the
 * same route records a resumed one checks.
 */
export async function startKvStandIn(): Promise<{
  apiBase: string;
  values: Map<string, string>;
  stop(): Promise<void>;
}> {
  const values = new Map<string, string>();
  const server = createServer((req, res) => {
    const m = /\/values\/(.+)$/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    const key = decodeURIComponent(m[1]!);
    if (req.method === 'DELETE') {
      values.delete(key);
      res.writeHead(200).end(JSON.stringify({ success: true }));
    } else if (req.method === 'GET') {
      const v = values.get(key);
      if (v === undefined) res.writeHead(404).end();
      else res.writeHead(200).end(v);
    } else if (req.method === 'PUT') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        values.set(key, body);
        res.writeHead(200).end(JSON.stringify({ success: true }));
      });
    } else res.writeHead(405).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    apiBase: `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4`,
    values,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startS3rver, S3RVER_CREDENTIALS, type EmbeddedS3 } from '@deploysphere/stack';
import { blobKey, manifestKey, ManifestSchema, type StorageTarget } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deploymentId, grantIssuer, tempDir, writeTree } from '../test/helpers.js';
import type { BuildGrants } from './grants/build-grants.js';
import { CollectingLogSink } from './log-sink.js';
import { collectOutputFiles, detectOutputDir } from './output-dir.js';
import { createS3Client } from './s3-client.js';
import { buildManifest, contentTypeFor, hashFiles, uploadDeployment, type HashedFile } from './upload.js';

let root: string;
let servers: EmbeddedS3[] = [];
let targets: StorageTarget[];
let files: HashedFile[];
const big = Buffer.alloc(9 * 1024 * 1024, 7);

beforeAll(async () => {
  root = await tempDir('bw-upload-');
  servers = await Promise.all(
    ['eu', 'us'].map((r) => startS3rver({ directory: join(root, `s3-${r}`), buckets: [`sites-${r}`] })),
  );
  targets = servers.map((s, i) => ({
    region: i === 0 ? 'eu-west' : 'us-east',
    endpoint: s.endpoint,
    bucket: i === 0 ? 'sites-eu' : 'sites-us',
    forcePathStyle: true,
    ...S3RVER_CREDENTIALS,
  }));
  const checkout = join(root, 'repo');
  await writeTree(checkout, {
    'dist/index.html': '<!doctype html><h1>hello</h1>',
    'dist/assets/app.js': 'console.log("hi")',
    'dist/assets/copy.js': 'console.log("hi")',
    'dist/style.css': 'body{}',
    'dist/data.bin': 'binary',
  });
  await writeFile(join(checkout, 'dist/big.wasm'), big);
  const output = await detectOutputDir(checkout, checkout, null);
  files = await hashFiles(
    await collectOutputFiles(checkout, output, { maxBytes: 1e9, maxFiles: 100 }, new CollectingLogSink()),
  );
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await rm(root, { recursive: true, force: true });
});

const distinctBytes = () => {
  const seen = new Map<string, number>();
  for (const f of files) seen.set(f.hash, f.size);
  return [...seen.values()].reduce((a, b) => a + b, 0);
};

/** The control plane's grants for deployment `id` of one project, over these buckets. */
function grantsFor(
  id: string,
  opts: {
    listing?: { pageSize: number; pagesPer100Blobs: number; headOnlyUpTo: number };
    over?: StorageTarget[];
  } = {},
): BuildGrants {
  const over = opts.over ?? targets;
  const issuer = grantIssuer(over, opts.listing ? { listing: opts.listing } : {});
  const scope = {
    deploymentId: id,
    projectSlug: 'site',
    regions: over.map((t) => t.region),
    previousDeployments: [],
    branch: 'main',
    productionBranch: 'main',
  };
  return {
    uploadGrants: (blobs) => issuer.uploadGrants(scope, blobs),
    cacheRestore: (key) => issuer.cacheRestore(scope, key),
    cacheSave: (req) => issuer.cacheSave(scope, req),
  };
}

async function upload(
  id: string,
  progress: Array<[number, number]> = [],
  listing?: { pageSize: number; pagesPer100Blobs: number; headOnlyUpTo: number },
) {
  const manifest = buildManifest({
    deploymentId: id,
    createdAt: new Date().toISOString(),
    files,
    redirects: [],
    headers: [],
  });
  return uploadDeployment({
    grants: grantsFor(id, listing ? { listing } : {}),
    files,
    manifest,
    concurrency: 4,
    logs: new CollectingLogSink(),
    onProgress: (u, t) => progress.push([u, t]),
  });
}

async function getBytes(target: StorageTarget, key: string): Promise<{ body: Buffer; contentType?: string }> {
  const client = createS3Client(target);
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
    return { body: Buffer.from(await res.Body!.transformToByteArray()), contentType: res.ContentType };
  } finally {
    client.destroy();
  }
}

describe('contentTypeFor', () => {
  it('uses the mime table with utf-8 for text', () => {
    expect(contentTypeFor('index.html')).toBe('text/html; charset=utf-8');
    expect(contentTypeFor('a/app.js')).toBe('text/javascript; charset=utf-8');
    expect(contentTypeFor('x.wasm')).toBe('application/wasm');
    expect(contentTypeFor('x.png')).toBe('image/png');
    expect(contentTypeFor('LICENSE')).toBe('application/octet-stream');
  });
});

describe('uploadDeployment', () => {
  it('stores every distinct blob once per region with its content type, then the manifest', async () => {
    const id = deploymentId();
    const progress: Array<[number, number]> = [];
    const result = await upload(id, progress);
    expect(result.uploadedBytes).toBe(distinctBytes() * 2);
    expect(result.uploadedBlobs).toBe(5 * 2);
    expect(progress.at(-1)).toEqual([distinctBytes() * 2, distinctBytes() * 2]);

    for (const target of targets) {
      const manifest = ManifestSchema.parse(
        JSON.parse((await getBytes(target, manifestKey(id))).body.toString()),
      );
      expect(Object.keys(manifest.files).sort()).toEqual(
        ['assets/app.js', 'assets/copy.js', 'big.wasm', 'data.bin', 'index.html', 'style.css'].sort(),
      );
      expect(manifest.files['assets/app.js']?.hash).toBe(manifest.files['assets/copy.js']?.hash);
      for (const [path, entry] of Object.entries(manifest.files)) {
        const blob = await getBytes(target, blobKey(entry.hash));
        expect(createHash('sha256').update(blob.body).digest('hex'), path).toBe(entry.hash);
        expect(blob.body.length).toBe(entry.size);
        expect(blob.contentType).toBe(entry.contentType);
      }
      expect(manifest.files['index.html']?.contentType).toBe('text/html; charset=utf-8');
    }
  });

  it('uploads 0 bytes when every blob is already stored', async () => {
    const id = deploymentId();
    const result = await upload(id);
    expect(result).toEqual({ uploadedBytes: 0, uploadedBlobs: 0 });
    for (const target of targets) {
      const manifest = ManifestSchema.parse(
        JSON.parse((await getBytes(target, manifestKey(id))).body.toString()),
      );
      expect(manifest.deploymentId).toBe(id);
    }
  });

  // (On S3 a blob PUT through a grant carries If-None-Match: *, so a wrong-size object stored
  // outside the grants is not replaced there; s3rver does not enforce If-None-Match.)
  it('re-uploads a blob whose stored size is wrong, only where it is wrong', async () => {
    const html = files.find((f) => f.path === 'index.html')!;
    const client = createS3Client(targets[1]!);
    await client.send(
      new PutObjectCommand({ Bucket: targets[1]!.bucket, Key: blobKey(html.hash), Body: 'trunc' }),
    );
    const result = await upload(deploymentId());
    expect(result).toEqual({ uploadedBytes: html.size, uploadedBlobs: 1 });
    const head = await client.send(
      new HeadObjectCommand({ Bucket: targets[1]!.bucket, Key: blobKey(html.hash) }),
    );
    expect(head.ContentLength).toBe(html.size);
    client.destroy();
  });

  it('answers from a listing cut short for the hashes it covered, and HEADs the rest', async () => {
    // One key per page and one page: the listing covers only the lowest hash in each bucket.
    const tiny = { pageSize: 1, pagesPer100Blobs: 1, headOnlyUpTo: 0 };
    expect(await upload(deploymentId(), [], tiny)).toEqual({ uploadedBytes: 0, uploadedBlobs: 0 });

    const byHash = [...new Map(files.map((f) => [f.hash, f])).values()].sort((a, b) =>
      a.hash < b.hash ? -1 : 1,
    );
    const lowest = byHash[0]!; // inside the listing's range
    const highest = byHash.at(-1)!; // beyond it: decided by a HEAD
    const client = createS3Client(targets[0]!);
    for (const blob of [lowest, highest]) {
      await client.send(
        new PutObjectCommand({ Bucket: targets[0]!.bucket, Key: blobKey(blob.hash), Body: 'x' }),
      );
    }
    client.destroy();
    const result = await upload(deploymentId(), [], tiny);
    expect(result).toEqual({ uploadedBytes: lowest.size + highest.size, uploadedBlobs: 2 });
    expect(await upload(deploymentId(), [], tiny)).toEqual({ uploadedBytes: 0, uploadedBlobs: 0 });
  });

  it('fails with a clear error when a region is unreachable, and writes no manifest there', async () => {
    const id = deploymentId();
    const manifest = buildManifest({
      deploymentId: id,
      createdAt: new Date().toISOString(),
      files,
      redirects: [],
      headers: [],
    });
    const dead = { ...targets[0]!, endpoint: 'http://127.0.0.1:1' };
    await expect(
      uploadDeployment({
        // The grants name a region whose S3 endpoint answers nothing.
        grants: grantsFor(id, { over: [targets[1]!, dead] }),
        files,
        manifest,
        concurrency: 4,
        logs: new CollectingLogSink(),
      }),
    ).rejects.toMatchObject({ kind: 'upload_failed' });
    await expect(getBytes(targets[1]!, manifestKey(id))).rejects.toThrow();
  });
});

describe('what the worker sends with a grant', () => {
  it('PUTs each blob with exactly the signed headers of its grant, and its bytes', async () => {
    const seen: { method?: string; url?: string; headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const html = files.find((f) => f.path === 'index.html')!;
    const grantHeaders = {
      'cache-control': 'public, max-age=31536000, immutable',
      'content-type': html.contentType,
      'if-none-match': '*',
      'x-amz-checksum-sha256': Buffer.from(html.hash, 'hex').toString('base64'),
    };
    const grants: BuildGrants = {
      uploadGrants: async () => ({
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
        regions: [
          {
            region: 'eu-west',
            present: 4,
            missing: [
              { hash: html.hash, put: { method: 'PUT', url: `${base}/blob?sig=1`, headers: grantHeaders } },
            ],
            manifest: {
              method: 'PUT',
              url: `${base}/manifest?sig=2`,
              headers: { 'content-type': 'application/json' },
            },
          },
        ],
      }),
      cacheRestore: async () => ({ candidates: [] }),
      cacheSave: async () => {
        throw new Error('unused');
      },
    };
    const id = deploymentId();
    try {
      const result = await uploadDeployment({
        grants,
        files,
        manifest: buildManifest({
          deploymentId: id,
          createdAt: new Date().toISOString(),
          files,
          redirects: [],
          headers: [],
        }),
        concurrency: 4,
        logs: new CollectingLogSink(),
      });
      expect(result).toEqual({ uploadedBytes: html.size, uploadedBlobs: 1 });
    } finally {
      await new Promise((r) => server.close(r));
    }
    const blob = seen.find((r) => r.url === '/blob?sig=1')!;
    expect(blob.method).toBe('PUT');
    expect(blob.body.toString()).toBe('<!doctype html><h1>hello</h1>');
    // Exactly the grant's headers, plus what HTTP itself needs: nothing added, nothing left out.
    const { host, connection, 'content-length': length, ...sent } = blob.headers;
    expect(host).toBeDefined();
    expect(connection).toBeDefined();
    expect(length).toBe(String(html.size));
    expect(sent).toEqual(grantHeaders);
    const manifest = seen.find((r) => r.url === '/manifest?sig=2')!;
    expect(ManifestSchema.parse(JSON.parse(manifest.body.toString())).deploymentId).toBe(id);
    const { host: _h, connection: _c, 'content-length': _l, ...manifestHeaders } = manifest.headers;
    expect(manifestHeaders).toEqual({ 'content-type': 'application/json' });
  });
});

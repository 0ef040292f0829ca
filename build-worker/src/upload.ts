import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import mime from 'mime';
import pLimit from 'p-limit';
import {
  retryWithBackoff,
  type BackoffOptions,
  blobKey,
  manifestKey,
  ManifestSchema,
  type Manifest,
  type StorageTarget,
} from '@deploysphere/contracts';
import { BuildError } from './build-error.js';
import { mapLimit } from './concurrency.js';
import type { LogSink } from './log-sink.js';
import type { OutputFile } from './output-dir.js';
import { createS3Client } from './s3-client.js';

export interface HashedFile extends OutputFile {
  hash: string;
  contentType: string;
}

const UTF8_TYPES = new Set([
  'application/javascript',
  'application/json',
  'application/manifest+json',
  'image/svg+xml',
  'application/xml',
]);

/** The Content-Type a file is served with, from its extension (the `mime` package's table). */
export function contentTypeFor(path: string): string {
  const type = mime.getType(path) ?? 'application/octet-stream';
  return type.startsWith('text/') || UTF8_TYPES.has(type) ? `${type}; charset=utf-8` : type;
}

/** sha256 of one file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export async function hashFiles(files: OutputFile[], concurrency = 8): Promise<HashedFile[]> {
  return mapLimit(files, concurrency, async (file) => ({
    ...file,
    hash: await sha256File(file.absolutePath),
    contentType: contentTypeFor(file.path),
  }));
}

/** Builds and validates the manifest for a set of hashed files. */
export function buildManifest(input: Omit<Manifest, 'v' | 'files'> & { files: HashedFile[] }): Manifest {
  const files: Manifest['files'] = {};
  for (const f of input.files) files[f.path] = { hash: f.hash, size: f.size, contentType: f.contentType };
  return ManifestSchema.parse({
    v: 1,
    deploymentId: input.deploymentId,
    createdAt: input.createdAt,
    files,
    redirects: input.redirects,
    headers: input.headers,
  });
}

export interface UploadOptions {
  targets: StorageTarget[];
  files: HashedFile[];
  manifest: Manifest;
  /** In-flight requests per region. */
  concurrency: number;
  logs: LogSink;
  signal?: AbortSignal;
  /** Bytes actually sent so far, out of the bytes that need sending (all regions together). */
  onProgress?: (uploadedBytes: number, totalBytes: number) => void;
  /** Earlier deployments of the project, whose manifests say which blobs each region holds. */
  knownDeployments?: readonly string[];
  /** How much of `blobs/` may be listed instead of HEADing blob by blob. */
  listing?: ListingOptions;
  /** Builds the S3 client for a target; createS3Client by default. */
  clientFor?: (target: StorageTarget) => S3Client;
}

export interface UploadResult {
  /** Blob bytes actually sent, summed over regions (0 for an unchanged redeploy). */
  uploadedBytes: number;
  uploadedBlobs: number;
}

/** Files read into memory below this size (retries resend the buffer); larger ones stream. */
const BUFFER_LIMIT = 8 * 1024 * 1024;
/** Each S3 call is tried 4 times, 250 ms apart and doubling; a cancel stops the retrying. */
const retryOptions = (signal: AbortSignal | undefined): BackoffOptions => ({
  attempts: 4,
  baseDelayMs: 250,
  shouldRetry: () => !signal?.aborted,
});

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/** HEADs are cheap and latency-bound, so more of them run at once than PUTs. */
const HEAD_CONCURRENCY_FACTOR = 4;

/**
 * What a listing of `blobs/` says about a region. Keys come back in hash order, so a listing cut
 * short still answers exactly for every hash up to the last key it reached: such a blob is present
 * iff it was listed (with the right size). Hashes beyond are unknown and get a HEAD.
 */
interface Listing {
  sizes: Map<string, number>;
  /** Every hash <= this was covered; undefined: none (HEAD everything); ALL: the whole prefix. */
  coveredUpTo: string | undefined;
}

export interface ListingOptions {
  pageSize: number;
  /** Pages read at most per 100 candidate blobs; listing is for buckets not much larger than the site. */
  pagesPer100Blobs: number;
}

const DEFAULT_LISTING: ListingOptions = { pageSize: 1000, pagesPer100Blobs: 2 };
const ALL = '\uffff';

async function listBlobs(
  client: S3Client,
  bucket: string,
  candidates: number,
  opts: ListingOptions,
  signal: AbortSignal | undefined,
): Promise<Listing> {
  const sizes = new Map<string, number>();
  const budget = Math.max(1, Math.ceil((candidates / 100) * opts.pagesPer100Blobs));
  let token: string | undefined;
  let last: string | undefined;
  try {
    for (let page = 0; page < budget; page++) {
      const res = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: 'blobs/',
          MaxKeys: opts.pageSize,
          ContinuationToken: token,
        }),
        { abortSignal: signal },
      );
      for (const o of res.Contents ?? []) {
        if (!o.Key) continue;
        last = o.Key.slice('blobs/'.length);
        sizes.set(last, o.Size ?? -1);
      }
      if (!res.IsTruncated || !res.NextContinuationToken) return { sizes, coveredUpTo: ALL };
      token = res.NextContinuationToken;
    }
    return { sizes, coveredUpTo: last };
  } catch {
    // No list permission, or an S3 that cannot list: every blob is checked with a HEAD instead.
    return { sizes: new Map(), coveredUpTo: undefined };
  }
}

/**
 * The blob hashes a region is known to hold: those of earlier manifests of the same project.
 * A manifest is written only after all of its blobs are stored, and blobs are immutable and
 * never deleted, so every hash it lists is present without asking. A manifest that cannot be
 * read simply contributes nothing.
 */
async function knownHashes(
  client: S3Client,
  bucket: string,
  deploymentIds: readonly string[],
  signal: AbortSignal | undefined,
): Promise<Set<string>> {
  const known = new Set<string>();
  await Promise.all(
    deploymentIds.map(async (id) => {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: manifestKey(id) }), {
          abortSignal: signal,
        });
        const parsed = ManifestSchema.safeParse(JSON.parse((await res.Body?.transformToString()) ?? ''));
        if (parsed.success) for (const f of Object.values(parsed.data.files)) known.add(f.hash);
      } catch {
        // missing or unreadable: those blobs are checked one by one instead
      }
    }),
  );
  return known;
}

/**
 * Content-addressed upload to every region in parallel.
 *
 * Per region, blobs listed by the project's earlier manifests are known to be there. The rest
 * are looked up in a bounded listing of `blobs/` (one request per 1,000 blobs, in hash order);
 * what the listing did not reach is checked with a HEAD. A blob counts as present only with the
 * expected size. Missing blobs are PUT with their content type as soon as they are known to be
 * missing, so checks and uploads overlap instead of running as two passes. Only after every blob in every region is stored is the manifest written to every
 * region, so a reader that finds the manifest always finds all of its blobs.
 */
export async function uploadDeployment(opts: UploadOptions): Promise<UploadResult> {
  const clientFor = opts.clientFor ?? createS3Client;
  const blobs = new Map<string, HashedFile>();
  for (const f of opts.files) if (!blobs.has(f.hash)) blobs.set(f.hash, f);
  const distinct = [...blobs.values()];
  const regions = opts.targets.map((target) => ({ target, client: clientFor(target) }));
  const sendOpts = { abortSignal: opts.signal };

  try {
    const known = await Promise.all(
      regions.map(({ target, client }) =>
        knownHashes(client, target.bucket, opts.knownDeployments ?? [], opts.signal),
      ),
    );
    const candidates = regions.map((_, i) => distinct.filter((b) => !known[i]!.has(b.hash)));
    // Nothing left to ask about (an unchanged redeploy, every hash in an earlier manifest): no
    // listing at all. Even one page of a 20,000-blob bucket cost seconds on s3rver.
    const listings = await Promise.all(
      regions.map(({ target, client }, i) =>
        candidates[i]!.length === 0
          ? Promise.resolve<Listing>({ sizes: new Map(), coveredUpTo: ALL })
          : listBlobs(
              client,
              target.bucket,
              candidates[i]!.length,
              opts.listing ?? DEFAULT_LISTING,
              opts.signal,
            ),
      ),
    );
    // An upper bound that shrinks as HEADs find blobs already stored.
    let totalBytes = candidates.reduce((sum, list) => sum + list.reduce((s, b) => s + b.size, 0), 0);
    let uploadedBytes = 0;
    let uploadedBlobs = 0;
    opts.onProgress?.(0, totalBytes);

    const exists = (client: S3Client, bucket: string, blob: HashedFile) =>
      retryWithBackoff(async () => {
        try {
          const head = await client.send(
            new HeadObjectCommand({ Bucket: bucket, Key: blobKey(blob.hash) }),
            sendOpts,
          );
          return head.ContentLength === blob.size;
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      }, retryOptions(opts.signal));

    const put = (client: S3Client, bucket: string, blob: HashedFile) =>
      retryWithBackoff(async () => {
        const body =
          blob.size <= BUFFER_LIMIT ? await readFile(blob.absolutePath) : createReadStream(blob.absolutePath);
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: blobKey(blob.hash),
            Body: body,
            ContentLength: blob.size,
            ContentType: blob.contentType,
            CacheControl: 'public, max-age=31536000, immutable',
          }),
          sendOpts,
        );
      }, retryOptions(opts.signal));

    await Promise.all(
      regions.map(async ({ target, client }, i) => {
        const putSlot = pLimit(opts.concurrency);
        let sent = 0;
        const listing = listings[i]!;
        const isStored = async (blob: HashedFile) =>
          listing.coveredUpTo !== undefined && blob.hash <= listing.coveredUpTo
            ? listing.sizes.get(blob.hash) === blob.size
            : exists(client, target.bucket, blob);
        await mapLimit(candidates[i]!, opts.concurrency * HEAD_CONCURRENCY_FACTOR, async (blob) => {
          if (await isStored(blob)) {
            totalBytes -= blob.size;
            opts.onProgress?.(uploadedBytes, totalBytes);
            return;
          }
          await putSlot(() => put(client, target.bucket, blob));
          sent += 1;
          uploadedBytes += blob.size;
          uploadedBlobs += 1;
          opts.onProgress?.(uploadedBytes, totalBytes);
        });
        opts.logs.write(
          'system',
          `Region ${target.region}: ${distinct.length - sent} of ${distinct.length} blobs already stored, uploaded ${sent}`,
        );
      }),
    );

    const manifest = ManifestSchema.parse(opts.manifest);
    const body = JSON.stringify(manifest);
    await Promise.all(
      regions.map(({ target, client }) =>
        retryWithBackoff(
          () =>
            client.send(
              new PutObjectCommand({
                Bucket: target.bucket,
                Key: manifestKey(manifest.deploymentId),
                Body: body,
                ContentType: 'application/json',
              }),
              sendOpts,
            ),
          retryOptions(opts.signal),
        ),
      ),
    );
    return { uploadedBytes, uploadedBlobs };
  } catch (err) {
    if (err instanceof BuildError) throw err;
    if (opts.signal?.aborted) throw new BuildError('cancelled', 'Build cancelled', { phase: 'upload' });
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new BuildError('upload_failed', `Uploading the output failed: ${message}`, {
      phase: 'upload',
      cause: err,
    });
  } finally {
    for (const { client } of regions) client.destroy();
  }
}

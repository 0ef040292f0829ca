import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import mime from 'mime';
import pLimit from 'p-limit';
import {
  blobKey,
  manifestKey,
  ManifestSchema,
  type Manifest,
  type StorageTarget,
} from '@deploysphere/contracts';
import { BuildError } from './build-error.js';
import { mapLimit, withRetries } from './concurrency.js';
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
const RETRY = { attempts: 4, baseDelayMs: 250 };

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/** HEADs are cheap and latency-bound, so more of them run at once than PUTs. */
const HEAD_CONCURRENCY_FACTOR = 4;

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
 * Per region, blobs listed by the project's earlier manifests are known to be there. Every other
 * distinct blob is checked with a HEAD (present only with the expected size) and, when missing,
 * PUT right away with its content type: checks and uploads overlap instead of running as two
 * passes. Only after every blob in every region is stored is the manifest written to every
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
    // An upper bound that shrinks as HEADs find blobs already stored.
    let totalBytes = candidates.reduce((sum, list) => sum + list.reduce((s, b) => s + b.size, 0), 0);
    let uploadedBytes = 0;
    let uploadedBlobs = 0;
    opts.onProgress?.(0, totalBytes);

    const exists = (client: S3Client, bucket: string, blob: HashedFile) =>
      withRetries(
        async () => {
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
        },
        { ...RETRY, signal: opts.signal },
      );

    const put = (client: S3Client, bucket: string, blob: HashedFile) =>
      withRetries(
        async () => {
          const body =
            blob.size <= BUFFER_LIMIT
              ? await readFile(blob.absolutePath)
              : createReadStream(blob.absolutePath);
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
        },
        { ...RETRY, signal: opts.signal },
      );

    await Promise.all(
      regions.map(async ({ target, client }, i) => {
        const putSlot = pLimit(opts.concurrency);
        let sent = 0;
        await mapLimit(candidates[i]!, opts.concurrency * HEAD_CONCURRENCY_FACTOR, async (blob) => {
          if (await exists(client, target.bucket, blob)) {
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
        withRetries(
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
          { ...RETRY, signal: opts.signal },
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

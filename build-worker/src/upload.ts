import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import {
  retryWithBackoff,
  type BackoffOptions,
  ManifestSchema,
  type Manifest,
  type PresignedRequest,
} from '@deploysphere/contracts';
import { BuildError } from './build-error.js';
import { contentTypeFor } from './content-type.js';

export { contentTypeFor };
import { mapLimit } from './concurrency.js';
import type { BuildGrants } from './grants/build-grants.js';
import { PresignedRequestError, putPresigned } from './grants/presigned-http.js';
import type { LogSink } from './log-sink.js';
import type { OutputFile } from './output-dir.js';

export interface HashedFile extends OutputFile {
  hash: string;
  contentType: string;
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
  /** Presigned PUTs from the control plane: the presence check is its job, not the worker's. */
  grants: BuildGrants;
  files: HashedFile[];
  manifest: Manifest;
  /** PUTs in flight per region. */
  concurrency: number;
  logs: LogSink;
  signal?: AbortSignal;
  /** Bytes actually sent so far, out of the bytes that need sending (all regions together). */
  onProgress?: (uploadedBytes: number, totalBytes: number) => void;
}

export interface UploadResult {
  /** Blob bytes actually sent, summed over regions (0 for an unchanged redeploy). */
  uploadedBytes: number;
  uploadedBlobs: number;
}

/** Files read into memory below this size (retries resend the buffer); larger ones stream. */
const BUFFER_LIMIT = 8 * 1024 * 1024;
/** Each PUT is tried 4 times, 250 ms apart and doubling; a cancel or a refusal stops the retrying. */
const retryOptions = (signal: AbortSignal | undefined): BackoffOptions => ({
  attempts: 4,
  baseDelayMs: 250,
  shouldRetry: (err) =>
    !signal?.aborted &&
    // 5xx, throttling and network errors are worth another try; a refused signature is not.
    (!(err instanceof PresignedRequestError) || err.status === 0 || err.status === 429 || err.status >= 500),
});

/**
 * Content-addressed upload to every region in parallel, through grants.
 *
 * The control plane answers which blobs each region lacks (earlier manifests, a bounded listing,
 * HEADs) and presigns a PUT for each missing `blobs/<sha256>`, signed with its checksum and
 * `If-None-Match: *`; the worker sends exactly the signed headers. Only after every blob in every
 * region is stored is the manifest written to every region, so a reader that finds the manifest
 * always finds all of its blobs.
 */
export async function uploadDeployment(opts: UploadOptions): Promise<UploadResult> {
  const blobs = new Map<string, HashedFile>();
  for (const f of opts.files) if (!blobs.has(f.hash)) blobs.set(f.hash, f);
  const distinct = [...blobs.values()];

  try {
    const grants = await opts.grants.uploadGrants(
      distinct.map((b) => ({ hash: b.hash, size: b.size, contentType: b.contentType })),
    );
    let totalBytes = 0;
    for (const region of grants.regions)
      for (const g of region.missing) totalBytes += blobs.get(g.hash)?.size ?? 0;
    let uploadedBytes = 0;
    let uploadedBlobs = 0;
    opts.onProgress?.(0, totalBytes);

    const put = (grant: PresignedRequest, blob: HashedFile) =>
      retryWithBackoff(async () => {
        const body =
          blob.size <= BUFFER_LIMIT
            ? await readFile(blob.absolutePath)
            : () => createReadStream(blob.absolutePath);
        return putPresigned(grant, body, blob.size, opts.signal);
      }, retryOptions(opts.signal));

    await Promise.all(
      grants.regions.map(async (region) => {
        let sent = 0;
        await mapLimit(region.missing, opts.concurrency, async (grant) => {
          const blob = blobs.get(grant.hash);
          if (!blob) throw new Error(`the control plane granted a blob this build does not have`);
          const outcome = await put(grant.put, blob);
          if (!outcome.stored) {
            // Stored meanwhile (If-None-Match refused the overwrite): nothing was sent.
            totalBytes -= blob.size;
            opts.onProgress?.(uploadedBytes, totalBytes);
            return;
          }
          sent += 1;
          uploadedBytes += blob.size;
          uploadedBlobs += 1;
          opts.onProgress?.(uploadedBytes, totalBytes);
        });
        opts.logs.write(
          'system',
          `Region ${region.region}: ${distinct.length - sent} of ${distinct.length} blobs already stored, uploaded ${sent}`,
        );
      }),
    );

    const manifest = Buffer.from(JSON.stringify(ManifestSchema.parse(opts.manifest)));
    await Promise.all(
      grants.regions.map((region) =>
        retryWithBackoff(
          () => putPresigned(region.manifest, manifest, manifest.length, opts.signal),
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
  }
}

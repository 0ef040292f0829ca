import { mapLimit } from '@deploysphere/build-worker/concurrency';
import { parseHeaders, parseRedirects } from '@deploysphere/build-worker/site-rules';
import {
  retryWithBackoff,
  type BlobGrant,
  type CliDeployCreated,
  type DeploymentTarget,
  type DeploymentView,
  type RegionId,
} from '@deploysphere/contracts';
import { api } from '../api/endpoints.js';
import { manifestFiles, sha256Hex, type FolderListing } from './folder-listing.js';

/**
 * The folder drop's deploy, the same upload API as `deploysphere deploy --prebuilt` (docs/cli.md):
 * hash in the browser, `POST /cli-deploys` with the manifest, PUT only the blobs each region
 * lacks straight to its bucket with the presigned grants, then `POST /cli-deploys/:id/finalize`.
 */

/** Files hashed at once: each is read whole (at most 25 MiB), so few at a time. */
export const HASH_CONCURRENCY = 4;
/** PUTs in flight per region: below a browser's six connections per host over HTTP/1.1. */
export const PUT_CONCURRENCY = 4;
/** As the CLI: the watchdog fails an upload silent for HEARTBEAT_TIMEOUT_MS. */
const HEARTBEAT_MS = 10_000;

export type DropPhase = 'hashing' | 'creating' | 'uploading' | 'finalizing';

export interface DropProgress {
  phase: DropPhase;
  hashed: number;
  files: number;
  /** Blobs and bytes the regions lacked, all regions together (known once created). */
  blobs: number;
  uploadedBlobs: number;
  totalBytes: number;
  uploadedBytes: number;
}

export interface DropResult {
  deployment: DeploymentView;
  projectCreated: boolean;
  /** Per region, the blobs and bytes this drop uploaded. */
  uploaded: { region: RegionId; blobs: number; bytes: number }[];
  /** Lines of `_redirects` / `_headers` that were ignored, as the CLI warns of them. */
  warnings: string[];
}

/** A PUT a region's bucket refused; not retried (the grant or the bytes are wrong). */
export class UploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

const retryable = (status: number) => status === 0 || status === 429 || status >= 500;

/**
 * One presigned PUT with exactly the grant's signed headers. 412 means `If-None-Match: *` found
 * the blob stored already: done. Network errors, 429 and 5xx are retried 4 times, as the CLI.
 */
export async function putBlob(grant: BlobGrant, body: Blob, signal?: AbortSignal): Promise<void> {
  const where = new URL(grant.put.url);
  await retryWithBackoff(
    async () => {
      let res: Response;
      try {
        res = await fetch(grant.put.url, { method: 'PUT', headers: grant.put.headers, body, signal });
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        // A CORS refusal looks the same as a dropped connection from here.
        throw new UploadError(0, `Could not reach storage at ${where.host} (network error or CORS)`);
      }
      if (res.ok || res.status === 412) return;
      const text = await res.text().catch(() => '');
      const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
      throw new UploadError(
        res.status,
        `Storage at ${where.host} refused ${grant.hash.slice(0, 12)}…: ${res.status}${code ? ` ${code}` : ''}`,
      );
    },
    {
      baseDelayMs: 250,
      maxDelayMs: 4000,
      attempts: 5,
      shouldRetry: (err) => err instanceof UploadError && retryable(err.status) && !signal?.aborted,
    },
  );
}

export interface DeployFolderOptions {
  listing: FolderListing<File>;
  slug: string;
  target: DeploymentTarget;
  /** A new project's regions, primary first; absent: the project's (or the platform's default). */
  regions?: RegionId[] | undefined;
  onProgress: (p: DropProgress) => void;
  /** Told the deployment once it exists, before the upload (to link to it, or cancel it). */
  onCreated?: (created: CliDeployCreated) => void;
  signal?: AbortSignal;
}

export async function deployFolder(opts: DeployFolderOptions): Promise<DropResult> {
  const { listing, signal } = opts;
  const progress: DropProgress = {
    phase: 'hashing',
    hashed: 0,
    files: listing.files.length,
    blobs: 0,
    uploadedBlobs: 0,
    totalBytes: 0,
    uploadedBytes: 0,
  };
  const report = () => opts.onProgress({ ...progress });
  report();

  const hashed = await mapLimit(listing.files, HASH_CONCURRENCY, async (f) => {
    signal?.throwIfAborted();
    const hash = await sha256Hex(f.file);
    progress.hashed += 1;
    report();
    return { ...f, hash };
  });
  const warnings: string[] = [];
  const rules = async <T>(file: File | undefined, parse: (text: string, r: (m: string) => void) => T[]) =>
    file ? parse(await file.text(), (m) => warnings.push(m)) : [];
  const redirects = await rules(listing.rules._redirects, parseRedirects);
  const headers = await rules(listing.rules._headers, parseHeaders);

  progress.phase = 'creating';
  report();
  signal?.throwIfAborted();
  const created = await api.createCliDeploy({
    slug: opts.slug,
    target: opts.target,
    ...(opts.regions ? { regions: opts.regions } : {}),
    files: manifestFiles(hashed),
    redirects,
    headers,
  });
  opts.onCreated?.(created);
  const id = created.deployment.id;

  const byHash = new Map(hashed.map((f) => [f.hash, f.file]));
  const bodyOf = (hash: string) => {
    const file = byHash.get(hash);
    if (!file) throw new Error(`The control plane granted ${hash}, which is not in the folder`);
    return file;
  };
  for (const r of created.regions) {
    progress.blobs += r.missing.length;
    for (const g of r.missing) progress.totalBytes += bodyOf(g.hash).size;
  }
  progress.phase = 'uploading';
  report();

  const heartbeat = setInterval(() => void api.cliDeployHeartbeat(id).catch(() => undefined), HEARTBEAT_MS);
  // One region's failure stops the other regions' PUTs too: the deployment is cancelled anyway.
  const stop = new AbortController();
  const putSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  try {
    const uploaded = await Promise.all(
      created.regions.map(async (region) => {
        let bytes = 0;
        await mapLimit(region.missing, PUT_CONCURRENCY, async (grant) => {
          const body = bodyOf(grant.hash);
          await putBlob(grant, body, putSignal);
          bytes += body.size;
          progress.uploadedBlobs += 1;
          progress.uploadedBytes += body.size;
          report();
        });
        return { region: region.region, blobs: region.missing.length, bytes };
      }),
    );
    clearInterval(heartbeat);
    progress.phase = 'finalizing';
    report();
    const deployment = await api.finalizeCliDeploy(id);
    return { deployment, projectCreated: created.projectCreated, uploaded, warnings };
  } catch (err) {
    stop.abort();
    // As the CLI: a failed upload cancels its deployment, rather than leaving it to the watchdog.
    // What landed stays (content-addressed), so dropping the folder again uploads only the rest.
    await api.cancel(id).catch(() => undefined);
    throw err;
  } finally {
    clearInterval(heartbeat);
  }
}

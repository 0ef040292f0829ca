import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { archiveKey, branchIndexKey, metaKey, modulePartNames } from '@deploysphere/build-worker/cache-keys';
import {
  blobKey,
  BuildCacheMetaSchema,
  CacheBranchIndexSchema,
  manifestKey,
  ManifestSchema,
  retryWithBackoff,
  type BuildCacheMeta,
  type CacheCandidate,
  type CachePart,
  type CacheRestoreResponse,
  type CacheSaveRequest,
  type CacheSaveResponse,
  type PresignedRequest,
  type RegionUploadGrants,
  type UploadBlob,
  type UploadGrantsResponse,
} from '@deploysphere/contracts';

/** One region's bucket as the control plane reaches it, with its own credentials. */
export interface GrantBucket {
  client: S3Client;
  bucket: string;
}

/** What one build may write and read: its own deployment, its project's cache, its branches. */
export interface GrantScope {
  deploymentId: string;
  projectSlug: string;
  /** The deployment's regions, primary first (the cache lives in the primary). */
  regions: readonly string[];
  /** Earlier ready deployments of the project: every blob their manifests list is present. */
  previousDeployments: readonly string[];
  /** The build's own branch (the only branch index it may write) and the production branch. */
  branch: string;
  productionBranch: string;
}

export interface ListingOptions {
  pageSize: number;
  /** Pages read at most per 100 candidate blobs; listing is for buckets not much larger than the site. */
  pagesPer100Blobs: number;
}

export interface StorageGrantsOptions {
  bucketFor(region: string): GrantBucket | undefined;
  /** How long a presigned request works. Bounded: one hour by default. */
  expiresInSeconds?: number;
  listing?: ListingOptions;
  /** HEADs in flight per region. */
  headConcurrency?: number;
}

export const DEFAULT_GRANT_EXPIRY_SECONDS = 3600;
const DEFAULT_LISTING: ListingOptions = { pageSize: 1000, pagesPer100Blobs: 2 };
const ALL = '\uffff';
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The S3 calls behind one answer: tried 3 times, then the request fails (the worker retries it). */
const retry = { attempts: 3, baseDelayMs: 200 };

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/** sha256 as S3's checksum header wants it: base64 of the 32 bytes. */
export function checksumOf(hexDigest: string): string {
  return Buffer.from(hexDigest, 'hex').toString('base64');
}

/**
 * The storage side of a build's grants: which blobs each region lacks, and presigned requests
 * for exactly the objects a build may touch. Everything a build writes goes through these:
 *
 * - `blobs/<sha256>`: a PUT whose signature covers `x-amz-checksum-sha256` (S3 refuses other
 *   bytes) and `If-None-Match: *` (S3 refuses to replace a stored blob), plus its content type.
 * - `deployments/<own id>/manifest.json`: a PUT per region.
 * - `cache/<own project>/…`: GETs of the archives it may restore, PUTs of the ones it saves, and
 *   of its own branch's index.
 *
 * No database here: the caller (BuildSessionService) has authenticated the build and says what
 * its scope is. Build-worker tests use this class in-process over s3rver.
 */
export class StorageGrants {
  private readonly expiresIn: number;

  constructor(private readonly opts: StorageGrantsOptions) {
    this.expiresIn = opts.expiresInSeconds ?? DEFAULT_GRANT_EXPIRY_SECONDS;
  }

  private bucket(region: string): GrantBucket {
    const b = this.opts.bucketFor(region);
    if (!b) throw new Error(`region ${region} has no storage configured`);
    return b;
  }

  private async presignPut(
    b: GrantBucket,
    input: Omit<PutObjectCommandInput, 'Bucket'>,
    headers: Record<string, string>,
  ): Promise<PresignedRequest> {
    const names = new Set(Object.keys(headers));
    const url = await getSignedUrl(b.client, new PutObjectCommand({ ...input, Bucket: b.bucket }), {
      expiresIn: this.expiresIn,
      // Every header the worker sends is signed, and stays a header (not hoisted to the query).
      signableHeaders: names,
      unhoistableHeaders: names,
    });
    return { method: 'PUT', url, headers };
  }

  private async presignGet(b: GrantBucket, key: string): Promise<PresignedRequest> {
    const url = await getSignedUrl(b.client, new GetObjectCommand({ Bucket: b.bucket, Key: key }), {
      expiresIn: this.expiresIn,
    });
    return { method: 'GET', url, headers: {} };
  }

  /** A PUT of one blob, bound to its content by the signed checksum, never replacing a stored one. */
  blobPut(b: GrantBucket, blob: UploadBlob): Promise<PresignedRequest> {
    const checksum = checksumOf(blob.hash);
    return this.presignPut(
      b,
      {
        Key: blobKey(blob.hash),
        ChecksumSHA256: checksum,
        IfNoneMatch: '*',
        ContentType: blob.contentType,
        CacheControl: IMMUTABLE,
      },
      {
        'cache-control': IMMUTABLE,
        'content-type': blob.contentType,
        'if-none-match': '*',
        'x-amz-checksum-sha256': checksum,
      },
    );
  }

  private jsonPut(b: GrantBucket, key: string): Promise<PresignedRequest> {
    return this.presignPut(
      b,
      { Key: key, ContentType: 'application/json' },
      { 'content-type': 'application/json' },
    );
  }

  /**
   * Per region: which of `blobs` it lacks (earlier manifests first, then a bounded listing of
   * `blobs/`, then a HEAD for what the listing did not reach; a blob counts as present only with
   * the expected size), a PUT for each missing one, and the manifest's PUT.
   */
  async uploadGrants(scope: GrantScope, blobs: readonly UploadBlob[]): Promise<UploadGrantsResponse> {
    const distinct = new Map<string, UploadBlob>();
    for (const b of blobs) if (!distinct.has(b.hash)) distinct.set(b.hash, b);
    const all = [...distinct.values()];
    const expiresAt = new Date(Date.now() + this.expiresIn * 1000).toISOString();
    const regions = await Promise.all(
      scope.regions.map(async (region): Promise<RegionUploadGrants> => {
        const b = this.bucket(region);
        const missing = await this.missingBlobs(b, all, scope.previousDeployments);
        const grants = [];
        for (const blob of missing) grants.push({ hash: blob.hash, put: await this.blobPut(b, blob) });
        return {
          region,
          present: all.length - missing.length,
          missing: grants,
          manifest: await this.jsonPut(b, manifestKey(scope.deploymentId)),
        };
      }),
    );
    return { expiresAt, regions };
  }

  private async missingBlobs(
    b: GrantBucket,
    blobs: UploadBlob[],
    previous: readonly string[],
  ): Promise<UploadBlob[]> {
    const known = await this.knownHashes(b, previous);
    const candidates = blobs.filter((blob) => !known.has(blob.hash));
    // Nothing left to ask about (an unchanged redeploy): no listing, no HEAD.
    if (candidates.length === 0) return [];
    const listing = await this.listBlobs(b, candidates.length);
    const stored = new Map<string, boolean>();
    const unknown: UploadBlob[] = [];
    for (const blob of candidates) {
      if (listing.coveredUpTo !== undefined && blob.hash <= listing.coveredUpTo)
        stored.set(blob.hash, listing.sizes.get(blob.hash) === blob.size);
      else unknown.push(blob);
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(unknown.length, this.opts.headConcurrency ?? 64) }, async () => {
        while (next < unknown.length) {
          const blob = unknown[next++]!;
          stored.set(blob.hash, await this.exists(b, blob));
        }
      }),
    );
    return candidates.filter((blob) => !stored.get(blob.hash));
  }

  /**
   * The hashes earlier manifests list. A manifest is written only after all of its blobs, and
   * blobs are immutable and never deleted, so each is present without asking.
   */
  private async knownHashes(b: GrantBucket, deploymentIds: readonly string[]): Promise<Set<string>> {
    const known = new Set<string>();
    await Promise.all(
      deploymentIds.map(async (id) => {
        try {
          const res = await b.client.send(new GetObjectCommand({ Bucket: b.bucket, Key: manifestKey(id) }));
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
   * Keys come back in hash order, so a listing cut short still answers exactly for every hash up
   * to the last key it reached; hashes beyond get a HEAD. A bucket that cannot list: HEAD all.
   */
  private async listBlobs(
    b: GrantBucket,
    candidates: number,
  ): Promise<{ sizes: Map<string, number>; coveredUpTo: string | undefined }> {
    const opts = this.opts.listing ?? DEFAULT_LISTING;
    const sizes = new Map<string, number>();
    const budget = Math.max(1, Math.ceil((candidates / 100) * opts.pagesPer100Blobs));
    let token: string | undefined;
    let last: string | undefined;
    try {
      for (let page = 0; page < budget; page++) {
        const res = await b.client.send(
          new ListObjectsV2Command({
            Bucket: b.bucket,
            Prefix: 'blobs/',
            MaxKeys: opts.pageSize,
            ContinuationToken: token,
          }),
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
      return { sizes: new Map(), coveredUpTo: undefined };
    }
  }

  private exists(b: GrantBucket, blob: UploadBlob): Promise<boolean> {
    return retryWithBackoff(async () => {
      try {
        const head = await b.client.send(
          new HeadObjectCommand({ Bucket: b.bucket, Key: blobKey(blob.hash) }),
        );
        return head.ContentLength === blob.size;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    }, retry);
  }

  private async getJson(b: GrantBucket, key: string): Promise<unknown> {
    try {
      const res = await b.client.send(new GetObjectCommand({ Bucket: b.bucket, Key: key }));
      return JSON.parse((await res.Body?.transformToString()) ?? '');
    } catch {
      return null; // missing or unreadable: no cache there
    }
  }

  /**
   * The caches a build may restore, best first: its exact key, its branch's newest, the
   * production branch's newest. Each with its meta, a GET per archive and a PUT for the meta (to
   * record the use). Only complete caches (with a meta) of the build's own project are offered.
   */
  async cacheRestore(scope: GrantScope, key: string): Promise<CacheRestoreResponse> {
    const b = this.bucket(scope.regions[0]!);
    const project = scope.projectSlug;
    const keys: { key: string; source: CacheCandidate['source'] }[] = [{ key, source: 'lockfile' }];
    for (const [branch, source] of [
      [scope.branch, 'branch'],
      [scope.productionBranch, 'production-branch'],
    ] as const) {
      const index = CacheBranchIndexSchema.safeParse(await this.getJson(b, branchIndexKey(project, branch)));
      if (index.success && !keys.some((k) => k.key === index.data.key))
        keys.push({ key: index.data.key, source });
    }
    const candidates: CacheCandidate[] = [];
    for (const c of keys) {
      const parsed = BuildCacheMetaSchema.safeParse(await this.getJson(b, metaKey(project, c.key)));
      if (!parsed.success || parsed.data.key !== c.key) continue;
      const meta = parsed.data;
      const archives: Record<string, PresignedRequest> = {};
      for (const part of partsOf(meta))
        archives[part] = await this.presignGet(b, archiveKey(project, c.key, part, meta.compression));
      candidates.push({ ...c, meta, archives, touch: await this.jsonPut(b, metaKey(project, c.key)) });
    }
    return { candidates };
  }

  /** PUTs for the archives of one save under the build's own project, its meta and its own branch's index. */
  async cacheSave(scope: GrantScope, req: CacheSaveRequest): Promise<CacheSaveResponse> {
    const b = this.bucket(scope.regions[0]!);
    const project = scope.projectSlug;
    const type = req.compression === 'zst' ? 'application/zstd' : 'application/gzip';
    const archives: Record<string, PresignedRequest> = {};
    for (const part of new Set(req.parts)) {
      archives[part] = await this.presignPut(
        b,
        { Key: archiveKey(project, req.key, part as CachePart, req.compression), ContentType: type },
        { 'content-type': type },
      );
    }
    return {
      archives,
      meta: await this.jsonPut(b, metaKey(project, req.key)),
      branchIndex: await this.jsonPut(b, branchIndexKey(project, scope.branch)),
    };
  }
}

/** The archives a saved cache has. */
function partsOf(meta: BuildCacheMeta): CachePart[] {
  return [
    'home',
    ...(meta.cachesBytes !== null ? (['caches'] as const) : []),
    ...(meta.modulesBytes !== null ? modulePartNames(meta.modulesShards) : []),
  ];
}

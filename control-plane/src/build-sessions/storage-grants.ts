import {
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { archiveKey, branchIndexKey, metaKey, modulePartNames } from '@deploysphere/build-worker/cache-keys';
import { mapLimit } from '@deploysphere/build-worker/concurrency';
import {
  AppError,
  blobKey,
  BuildCacheMetaSchema,
  CacheBranchIndexSchema,
  manifestKey,
  ManifestSchema,
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
import { storedSize } from '../infra/stored-object.js';
import type { GrantLedger } from './granted-blobs.js';
import { BLOB_RANGES, listedSize, listWantedBlobs, type ListedBlobs } from './listed-blobs.js';

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
  /**
   * Up to this many candidates are asked about with a HEAD each and no listing: a page of a
   * thousand keys costs more than a few HEADs in flight together (a one-file change).
   */
  headOnlyUpTo: number;
}

export interface StorageGrantsOptions {
  bucketFor(region: string): GrantBucket | undefined;
  /** How long a presigned request works. Bounded: one hour by default. */
  expiresInSeconds?: number;
  listing?: ListingOptions;
  /** HEADs in flight per region. */
  headConcurrency?: number;
  /**
   * Records that the deployment relies on these blobs, before any is looked up, so garbage
   * collection never deletes one that this answer reports as stored (docs/retention.md).
   */
  claimBlobs?(deploymentId: string, hashes: string[]): Promise<void>;
  /**
   * The blobs ever granted per bucket: one never granted is missing without a HEAD, and every
   * grant is noted before it is answered. Without it, every blob not in an earlier manifest is
   * looked up.
   */
  ledger?: GrantLedger;
}

export const DEFAULT_GRANT_EXPIRY_SECONDS = 3600;
const DEFAULT_LISTING: ListingOptions = { pageSize: 1000, pagesPer100Blobs: 2, headOnlyUpTo: 64 };
/** Presence by HEADs alone: for storage where a listing costs per object what a HEAD does (s3rver). */
export const HEAD_ONLY: ListingOptions = { pageSize: 1000, pagesPer100Blobs: 0, headOnlyUpTo: Infinity };
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The S3 calls behind one answer: tried 3 times, then the request fails (the worker retries it). */
const retry = { attempts: 3, baseDelayMs: 200 };

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
    if (!b) throw AppError.internal(`region ${region} has no storage configured`);
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

  /**
   * A CLI source deploy's archive (docs/cli.md): a PUT of exactly `key`, signed over its sha256
   * (S3 refuses other bytes) and `If-None-Match: *` (an archive is never replaced once stored).
   */
  sourceArchivePut(b: GrantBucket, key: string, sha256: string): Promise<PresignedRequest> {
    const checksum = checksumOf(sha256);
    return this.presignPut(
      b,
      { Key: key, ChecksumSHA256: checksum, IfNoneMatch: '*', ContentType: 'application/gzip' },
      { 'content-type': 'application/gzip', 'if-none-match': '*', 'x-amz-checksum-sha256': checksum },
    );
  }

  /** The build's GET of its own source archive (the worker checks its sha256 itself). */
  sourceArchiveGet(b: GrantBucket, key: string): Promise<PresignedRequest> {
    return this.presignGet(b, key);
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
    await this.opts.claimBlobs?.(scope.deploymentId, [...distinct.keys()]);
    const expiresAt = new Date(Date.now() + this.expiresIn * 1000).toISOString();
    const regions = await Promise.all(
      scope.regions.map(async (region): Promise<RegionUploadGrants> => {
        const b = this.bucket(region);
        const missing = await this.missingBlobs(region, b, all, scope.previousDeployments);
        await this.opts.ledger?.noteGranted(
          { region, bucket: b.bucket },
          missing.map((m) => m.hash),
        );
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

  /**
   * The blobs this region lacks: not in an earlier manifest of the project, and either never
   * granted there (the ledger) or not found stored at their size.
   */
  private async missingBlobs(
    region: string,
    b: GrantBucket,
    blobs: UploadBlob[],
    previous: readonly string[],
  ): Promise<UploadBlob[]> {
    const known = await this.knownHashes(b, previous);
    const unknown = blobs.filter((blob) => !known.has(blob.hash));
    // Nothing left to ask about (an unchanged redeploy): no listing, no HEAD.
    if (unknown.length === 0) return [];
    const { ledger } = this.opts;
    const mayHold = ledger
      ? await ledger.mayHold(
          { region, bucket: b.bucket },
          unknown.map((u) => u.hash),
        )
      : undefined;
    // Never granted here, so never stored: a new site's thousands of files cost no request.
    const candidates = mayHold ? unknown.filter((blob) => mayHold.has(blob.hash)) : unknown;
    const stored = new Map<string, boolean>();
    const lacks = (blob: UploadBlob) => (mayHold && !mayHold.has(blob.hash)) || !stored.get(blob.hash);
    if (candidates.length === 0) return unknown.filter(lacks);
    const listing = await this.listed(
      b,
      candidates.map((c) => c.hash),
    );
    const unlisted: UploadBlob[] = [];
    for (const blob of candidates) {
      const size = listedSize(listing, blob.hash);
      if (size === 'unknown') unlisted.push(blob);
      else stored.set(blob.hash, size === blob.size);
    }
    await mapLimit(unlisted, this.opts.headConcurrency ?? 64, async (blob) => {
      stored.set(blob.hash, await this.exists(b, blob));
    });
    return unknown.filter(lacks);
  }

  /**
   * The hashes earlier manifests list. A manifest is written only after all of its blobs, and
   * blobs are immutable; garbage collection deletes a blob only once no kept manifest lists it
   * and no build has claimed it (claimBlobs), so each is present without asking.
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
   * What a listing of `blobs/` tells about these hashes (listWantedBlobs), within this bucket's
   * listing budget: none for a few (HEADs in flight together are quicker than a page of a thousand
   * keys), and pages in proportion to the hashes asked about, so listing is for buckets not much
   * larger than the set. A bucket that cannot list answers nothing: every hash gets a HEAD.
   */
  async listed(b: GrantBucket, hashes: readonly string[]): Promise<ListedBlobs> {
    const opts = this.opts.listing ?? DEFAULT_LISTING;
    if (hashes.length <= opts.headOnlyUpTo) return new Map();
    const pages = Math.ceil((hashes.length / 100) * opts.pagesPer100Blobs);
    try {
      return await listWantedBlobs(b, hashes, {
        pageKeys: opts.pageSize,
        pagesPerRange: Math.max(1, Math.ceil(pages / BLOB_RANGES.length)),
      });
    } catch {
      return new Map();
    }
  }

  private async exists(b: GrantBucket, blob: UploadBlob): Promise<boolean> {
    return (await storedSize(b, blobKey(blob.hash), retry)) === blob.size;
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
   * production branch's newest. Each with its meta and a GET per archive. Only complete caches
   * (with a meta) of the build's own project are offered.
   *
   * A build writes only its own branch's namespace (cacheNamespace), and the production branch's
   * caches are written only by production builds. A branch build may read production's caches but
   * never write them, so code pushed to any branch cannot poison what a production build restores
   * (the GitHub Actions cache-poisoning class). Its `touch` (recording the use, for expiry) is a
   * PUT on its own namespace's meta only; a production cache a branch build is offered is marked
   * used here, by the control plane.
   */
  async cacheRestore(scope: GrantScope, key: string): Promise<CacheRestoreResponse> {
    const b = this.bucket(scope.regions[0]!);
    const project = scope.projectSlug;
    const own = cacheNamespace(scope, scope.branch);
    const production = cacheNamespace(scope, scope.productionBranch);
    const keys: { ns: string; key: string; source: CacheCandidate['source'] }[] = [
      { ns: own, key, source: 'lockfile' },
      { ns: production, key, source: 'lockfile' },
    ];
    for (const [branch, ns, source] of [
      [scope.branch, own, 'branch'],
      [scope.productionBranch, production, 'production-branch'],
    ] as const) {
      const index = CacheBranchIndexSchema.safeParse(await this.getJson(b, branchIndexKey(project, branch)));
      if (index.success) keys.push({ ns, key: index.data.key, source });
    }
    const candidates: CacheCandidate[] = [];
    const seen = new Set<string>();
    for (const c of keys) {
      if (seen.has(`${c.ns}/${c.key}`)) continue;
      seen.add(`${c.ns}/${c.key}`);
      const parsed = BuildCacheMetaSchema.safeParse(await this.getJson(b, metaKey(c.ns, c.key)));
      if (!parsed.success || parsed.data.key !== c.key) continue;
      const meta = parsed.data;
      const archives: Record<string, PresignedRequest> = {};
      for (const part of partsOf(meta))
        archives[part] = await this.presignGet(b, archiveKey(c.ns, c.key, part, meta.compression));
      if (c.ns !== own) await this.markUsed(b, metaKey(c.ns, c.key), meta);
      candidates.push({
        key: c.key,
        source: c.source,
        meta,
        archives,
        // The worker's record of the use lands in its own namespace, where it may write.
        touch: await this.jsonPut(b, metaKey(own, c.key)),
      });
    }
    return { candidates };
  }

  /** PUTs for the archives of one save in the build's own namespace, its meta and its own branch's index. */
  async cacheSave(scope: GrantScope, req: CacheSaveRequest): Promise<CacheSaveResponse> {
    const b = this.bucket(scope.regions[0]!);
    const ns = cacheNamespace(scope, scope.branch);
    const type = req.compression === 'zst' ? 'application/zstd' : 'application/gzip';
    const archives: Record<string, PresignedRequest> = {};
    for (const part of new Set(req.parts)) {
      archives[part] = await this.presignPut(
        b,
        { Key: archiveKey(ns, req.key, part as CachePart, req.compression), ContentType: type },
        { 'content-type': type },
      );
    }
    return {
      archives,
      meta: await this.jsonPut(b, metaKey(ns, req.key)),
      branchIndex: await this.jsonPut(b, branchIndexKey(scope.projectSlug, scope.branch)),
    };
  }

  /** Bumps a cache's usedAt (at most hourly), so expiry counts from its last use. */
  private async markUsed(b: GrantBucket, key: string, meta: BuildCacheMeta): Promise<void> {
    const usedAt = Date.parse(meta.usedAt ?? meta.savedAt);
    if (Date.now() - usedAt < 3_600_000) return;
    await b.client
      .send(
        new PutObjectCommand({
          Bucket: b.bucket,
          Key: key,
          Body: JSON.stringify({ ...meta, usedAt: new Date().toISOString() }),
          ContentType: 'application/json',
        }),
      )
      .catch(() => undefined); // a missed bump only makes expiry come sooner
  }
}

/**
 * Where a branch's caches live: the production branch's directly under the project
 * (`cache/<project>/<key>/…`, as before branches had their own), any other branch's under
 * `cache/<project>/by-branch/<sha256(branch), 16 hex>/<key>/…`.
 */
export function cacheNamespace(
  scope: Pick<GrantScope, 'projectSlug' | 'productionBranch'>,
  branch: string,
): string {
  if (branch === scope.productionBranch) return scope.projectSlug;
  return `${scope.projectSlug}/by-branch/${createHash('sha256').update(branch).digest('hex').slice(0, 16)}`;
}

/** The archives a saved cache has. */
function partsOf(meta: BuildCacheMeta): CachePart[] {
  return [
    'home',
    ...(meta.cachesBytes !== null ? (['caches'] as const) : []),
    ...(meta.modulesBytes !== null ? modulePartNames(meta.modulesShards) : []),
  ];
}

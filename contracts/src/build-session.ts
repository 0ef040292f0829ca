import { z } from 'zod';
import { BuildSpecSchema } from './build.js';
import { DeploymentIdSchema } from './ids.js';
import { BlobHashSchema } from './manifest.js';
import { RegionIdSchema } from './regions.js';

/**
 * A build's session with the control plane (docs/build-isolation.md, "What a build holds").
 *
 * A runner launches the worker with its deployment id, the NATS URL, the control plane's URL and
 * a one-time bootstrap token, nothing secret besides that token. The worker exchanges the token
 * for its spec, its NATS user and a build token; with the build token it asks for presigned S3
 * requests (grants) for its uploads and its build cache. It holds no S3 credentials.
 */
export const BUILD_SESSION_PATHS = {
  bootstrap: '/internal/v1/builds/bootstrap',
  uploadGrants: (deploymentId: string) => `/internal/v1/builds/${deploymentId}/upload-grants`,
  cacheRestore: (deploymentId: string) => `/internal/v1/builds/${deploymentId}/cache/restore`,
  cacheSave: (deploymentId: string) => `/internal/v1/builds/${deploymentId}/cache/save`,
} as const;

/** Stable error codes of the build session routes (with their HTTP status). */
export const BUILD_SESSION_ERRORS = {
  /** 401: unknown, already used or expired bootstrap token. */
  bootstrapTokenInvalid: 'bootstrap_token_invalid',
  /** 401: no build token, or one no deployment holds. */
  buildTokenInvalid: 'build_token_invalid',
  /** 403: a build token used for another deployment than its own. */
  wrongDeployment: 'build_token_wrong_deployment',
  /** 409: the deployment is no longer building (finished, cancelled, failed). */
  notBuilding: 'deployment_not_building',
  /** 403: cache grants for a project whose cache is off, or a restore for a "without cache" deployment. */
  cacheOff: 'build_cache_off',
} as const;

/** A request the control plane signed: send exactly these headers (they are part of the signature). */
export const PresignedRequestSchema = z.object({
  method: z.enum(['GET', 'PUT']),
  url: z.url(),
  headers: z.record(z.string(), z.string()),
});
export type PresignedRequest = z.infer<typeof PresignedRequestSchema>;

/** `POST /internal/v1/builds/bootstrap`, `Authorization: Bearer <bootstrap token>`: no body. */
export const BootstrapResponseSchema = z.object({
  v: z.literal(1),
  spec: BuildSpecSchema,
  /** The build's own NATS user (.creds text), minted for this deployment only. */
  natsCredentials: z.string().min(1),
  /** The seq of the build's first event: an earlier attempt's events are not replays of these. */
  firstEventSeq: z.number().int().positive(),
  /** Bearer token for this deployment's grant routes, valid while the deployment is building. */
  buildToken: z.string().min(32),
});
export type BootstrapResponse = z.infer<typeof BootstrapResponseSchema>;

/** At most this many distinct blobs in one upload-grants request (MAX_OUTPUT_FILES is 50,000 by default). */
export const MAX_GRANT_BLOBS = 100_000;

export const UploadBlobSchema = z.object({
  hash: BlobHashSchema,
  size: z.number().int().nonnegative(),
  /** Stored with the blob; the first path with this content decides. */
  contentType: z.string().min(1).max(255),
});
export type UploadBlob = z.infer<typeof UploadBlobSchema>;

/** `POST /internal/v1/builds/:deploymentId/upload-grants`: the output's distinct blobs. */
export const UploadGrantsRequestSchema = z.object({
  blobs: z.array(UploadBlobSchema).max(MAX_GRANT_BLOBS),
});
export type UploadGrantsRequest = z.infer<typeof UploadGrantsRequestSchema>;

export const BlobGrantSchema = z.object({ hash: BlobHashSchema, put: PresignedRequestSchema });
export type BlobGrant = z.infer<typeof BlobGrantSchema>;

/** One region: the blobs it lacks, each with a PUT for `blobs/<sha256>`, and the manifest's PUT. */
export const RegionUploadGrantsSchema = z.object({
  region: RegionIdSchema,
  /** How many of the requested blobs the region already holds (no grant for those). */
  present: z.number().int().nonnegative(),
  missing: z.array(BlobGrantSchema),
  /** `deployments/<id>/manifest.json`, to be written after every blob of every region. */
  manifest: PresignedRequestSchema,
});
export type RegionUploadGrants = z.infer<typeof RegionUploadGrantsSchema>;

export const UploadGrantsResponseSchema = z.object({
  expiresAt: z.iso.datetime(),
  /** Primary first, as the deployment's regions. */
  regions: z.array(RegionUploadGrantsSchema),
});
export type UploadGrantsResponse = z.infer<typeof UploadGrantsResponseSchema>;

/** A build cache's exact key: sha256 of lockfile, package manager, Node and platform. */
export const CacheKeySchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest');
export const CacheCompressionSchema = z.enum(['zst', 'gz']);
export type CacheCompression = z.infer<typeof CacheCompressionSchema>;
/** 'home', 'caches', 'modules' and node_modules' further shards 'modules-1' … 'modules-7'. */
export const CachePartSchema = z
  .string()
  .regex(/^(home|caches|modules|modules-[1-7])$/, 'expected home, caches, modules or modules-<1-7>');
export type CachePart = 'home' | 'caches' | 'modules' | `modules-${number}`;

/**
 * `cache/<project>/<key>/meta.json`, written after the archives: a key without it is incomplete.
 * The control plane reads it to know which archives to grant; the worker to restore them.
 */
export const BuildCacheMetaSchema = z.object({
  v: z.literal(1),
  key: CacheKeySchema,
  compression: CacheCompressionSchema,
  savedAt: z.iso.datetime(),
  /** Bumped when a build restores it: expiry counts from the last use. */
  usedAt: z.iso.datetime().optional(),
  branch: z.string(),
  homeBytes: z.number().int().nonnegative(),
  /** null: no framework cache existed. */
  cachesBytes: z.number().int().nonnegative().nullable(),
  modulesBytes: z.number().int().nonnegative().nullable(),
  /** node_modules in this many archives ('modules', 'modules-1', …), extracted in parallel. */
  modulesShards: z.number().int().min(1).max(8).default(1),
  /** Checkout-relative paths the caches archive holds under repo/, restored where absent. */
  repoPaths: z.array(z.string()),
  modulePaths: z.array(z.string()),
});
export type BuildCacheMeta = z.infer<typeof BuildCacheMetaSchema>;

/** `cache/<project>/branches/<…>.json`: a branch's newest key. */
export const CacheBranchIndexSchema = z.object({
  v: z.literal(1),
  key: CacheKeySchema,
  savedAt: z.iso.datetime(),
});

/** `POST /internal/v1/builds/:deploymentId/cache/restore`: the build's exact key. */
export const CacheRestoreRequestSchema = z.object({ key: CacheKeySchema });
export type CacheRestoreRequest = z.infer<typeof CacheRestoreRequestSchema>;

export const CacheSourceSchema = z.enum(['lockfile', 'branch', 'production-branch']);

/** One cache the build may restore: its meta, a GET per archive, and a PUT to record its use. */
export const CacheCandidateSchema = z.object({
  source: CacheSourceSchema,
  key: CacheKeySchema,
  meta: BuildCacheMetaSchema,
  archives: z.record(z.string(), PresignedRequestSchema),
  /** PUT of the meta with `usedAt` bumped. */
  touch: PresignedRequestSchema,
});
export type CacheCandidate = z.infer<typeof CacheCandidateSchema>;

/** In order of preference: exact key, the build's branch, the production branch. Empty: a miss. */
export const CacheRestoreResponseSchema = z.object({ candidates: z.array(CacheCandidateSchema) });
export type CacheRestoreResponse = z.infer<typeof CacheRestoreResponseSchema>;

/** `POST /internal/v1/builds/:deploymentId/cache/save`: the archives the build is about to write. */
export const CacheSaveRequestSchema = z.object({
  key: CacheKeySchema,
  compression: CacheCompressionSchema,
  parts: z.array(CachePartSchema).max(10),
});
export type CacheSaveRequest = z.infer<typeof CacheSaveRequestSchema>;

/** PUTs under `cache/<own project>/`: each archive, then the meta, then the build's branch index. */
export const CacheSaveResponseSchema = z.object({
  archives: z.record(z.string(), PresignedRequestSchema),
  meta: PresignedRequestSchema,
  branchIndex: PresignedRequestSchema,
});
export type CacheSaveResponse = z.infer<typeof CacheSaveResponseSchema>;

/** The path parameter of the grant routes. */
export const BuildSessionParamsSchema = z.object({ deploymentId: DeploymentIdSchema });

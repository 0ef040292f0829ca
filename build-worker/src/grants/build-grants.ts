import type {
  CacheRestoreResponse,
  CacheSaveRequest,
  CacheSaveResponse,
  UploadBlob,
  UploadGrantsResponse,
} from '@deploysphere/contracts';

/**
 * What a build may ask of storage, answered with presigned requests (contracts/src/build-session.ts).
 * The worker holds no S3 credentials: the CLI asks the control plane over HTTP with its build token
 * (ControlPlaneGrants); tests and tools running a build in-process may answer from an in-process
 * grant issuer instead.
 */
export interface BuildGrants {
  /** Per region: which of these blobs it lacks, a PUT for each, and the manifest's PUT. */
  uploadGrants(blobs: UploadBlob[]): Promise<UploadGrantsResponse>;
  /** The caches this build may restore, best first (empty: a miss). */
  cacheRestore(key: string): Promise<CacheRestoreResponse>;
  /** PUTs for a save under the build's own project and branch. */
  cacheSave(req: CacheSaveRequest): Promise<CacheSaveResponse>;
}

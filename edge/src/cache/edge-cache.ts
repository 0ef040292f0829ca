/**
 * The slice of the Workers Cache API the edge uses. Keys are synthetic URLs on a host nobody can
 * request, so a visitor can never read or poison an entry through a site URL.
 */
export interface EdgeCache {
  match(key: string): Promise<Response | undefined>;
  put(key: string, response: Response): Promise<void>;
}

const CACHE_HOST = 'https://edge-cache.deploysphere.internal';

export const blobCacheKey = (hash: string): string => `${CACHE_HOST}/blobs/${hash}`;
export const manifestCacheKey = (deploymentId: string): string => `${CACHE_HOST}/manifests/${deploymentId}`;

/** `caches.default` where the runtime has it (workerd), otherwise undefined (Node unit tests). */
export function defaultEdgeCache(): EdgeCache | undefined {
  const storage = (globalThis as { caches?: { default?: unknown } }).caches;
  // workers-types and Node's lib disagree on the Request/Response classes; the shapes used match.
  return storage?.default as EdgeCache | undefined;
}

import type { RouteRecord } from '@deploysphere/contracts';

/**
 * Where hostname → deployment records live: Miniflare's KV locally, Cloudflare Workers KV in
 * production. Writing one record is the atomic switch of a deploy or a rollback.
 */
export interface RouteStore {
  put(hostname: string, record: RouteRecord): Promise<void>;
  get(hostname: string): Promise<RouteRecord | null>;
  delete(hostname: string): Promise<void>;
}

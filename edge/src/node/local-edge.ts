import { mkdir } from 'node:fs/promises';
import { Miniflare } from 'miniflare';
import { RouteRecordSchema, routeKey, type EdgeRegionInput, type RouteRecord } from '@deploysphere/contracts';
import { parseEdgeConfig } from '../config/edge-config.js';
import { bundleWorker } from './bundle-worker.js';

/** The date the worker is written against; keep in step with wrangler.toml. */
export const COMPATIBILITY_DATE = '2025-09-01';

export interface LocalEdgeOptions {
  host?: string;
  /** 0 picks a free port; the returned url has the real one. */
  port: number;
  /** Where KV (the route records) persists across restarts; in memory when omitted. */
  kvPersistDir?: string;
  rootDomain: string;
  regions: EdgeRegionInput[];
  devMode: boolean;
  metricsUrl?: string;
  metricsToken?: string;
  metricsFlushIntervalMs?: number;
  s3Credentials?: { accessKeyId: string; secretAccessKey: string };
  routeCacheTtlMs?: number;
  originTimeoutMs?: number;
  /** Protected previews: the key shared with the control plane, and where visitors sign in. */
  protection?: { signingKey: string; authUrl: string };
  /**
   * `request.cf` for requests arriving over HTTP. Defaults to an object without a location, so
   * locally the primary region serves unless dev mode's x-deploysphere-geo header says otherwise.
   */
  cf?: Record<string, unknown>;
}

export interface LocalEdgeRoutes {
  put(hostname: string, record: RouteRecord): Promise<void>;
  delete(hostname: string): Promise<void>;
  get(hostname: string): Promise<RouteRecord | null>;
}

export interface LocalEdge {
  url: string;
  routes: LocalEdgeRoutes;
  /** Miniflare's dispatchFetch: lets tests set `cf` (visitor location) per request. */
  dispatchFetch: Miniflare['dispatchFetch'];
  stop(): Promise<void>;
}

/**
 * Runs the edge worker in workerd (through Miniflare) for the local stack and tests. The worker's
 * vars are validated here first, so a bad option fails at start with the same message the worker
 * would log, instead of on the first request.
 */
export async function startLocalEdge(options: LocalEdgeOptions): Promise<LocalEdge> {
  const vars: Record<string, string> = {
    ROOT_DOMAIN: options.rootDomain,
    REGIONS: JSON.stringify(options.regions),
    DEV_MODE: String(options.devMode),
    ...(options.routeCacheTtlMs === undefined ? {} : { ROUTE_CACHE_TTL_MS: String(options.routeCacheTtlMs) }),
    ...(options.originTimeoutMs === undefined ? {} : { ORIGIN_TIMEOUT_MS: String(options.originTimeoutMs) }),
    ...(options.metricsUrl ? { METRICS_URL: options.metricsUrl } : {}),
    ...(options.metricsToken ? { METRICS_TOKEN: options.metricsToken } : {}),
    ...(options.metricsFlushIntervalMs === undefined
      ? {}
      : { METRICS_FLUSH_INTERVAL_MS: String(options.metricsFlushIntervalMs) }),
    ...(options.s3Credentials
      ? {
          S3_ACCESS_KEY_ID: options.s3Credentials.accessKeyId,
          S3_SECRET_ACCESS_KEY: options.s3Credentials.secretAccessKey,
        }
      : {}),
    ...(options.protection
      ? {
          PROTECTION_SIGNING_KEY: options.protection.signingKey,
          PROTECTION_AUTH_URL: options.protection.authUrl,
        }
      : {}),
  };
  parseEdgeConfig(vars);
  if (options.kvPersistDir) await mkdir(options.kvPersistDir, { recursive: true });

  const mf = new Miniflare({
    name: 'deploysphere-edge',
    modules: true,
    script: await bundleWorker(),
    compatibilityDate: COMPATIBILITY_DATE,
    host: options.host ?? '127.0.0.1',
    port: options.port,
    kvNamespaces: ['ROUTES'],
    kvPersist: options.kvPersistDir ?? false,
    bindings: vars,
    cf: options.cf ?? { country: 'XX' },
  });
  let url: URL;
  try {
    url = await mf.ready;
  } catch (error) {
    await mf.dispose().catch(() => undefined);
    throw error;
  }
  const kv = await mf.getKVNamespace('ROUTES');

  return {
    url: url.origin,
    routes: {
      async put(hostname, record) {
        await kv.put(routeKey(hostname), JSON.stringify(RouteRecordSchema.parse(record)));
      },
      async delete(hostname) {
        await kv.delete(routeKey(hostname));
      },
      async get(hostname) {
        const raw = await kv.get(routeKey(hostname));
        return raw === null ? null : RouteRecordSchema.parse(JSON.parse(raw));
      },
    },
    dispatchFetch: (input, init) => mf.dispatchFetch(input, init),
    stop: () => mf.dispose(),
  };
}

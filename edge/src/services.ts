import type { EdgeRegion } from '@deploysphere/contracts';
import {
  BlobStore,
  DEFAULT_BLOB_STORE_OPTIONS,
  type BlobStoreOptions,
  type IntegrityFailureListener,
} from './cache/blob-store.js';
import { defaultEdgeCache, type EdgeCache } from './cache/edge-cache.js';
import { ManifestStore } from './cache/manifest-store.js';
import type { Bindings } from './config/bindings.js';
import { parseEdgeConfig, type EdgeConfig } from './config/edge-config.js';
import { MetricsShipper } from './metrics/metrics-shipper.js';
import { RegionHealth } from './origin/region-health.js';
import { S3Origin, type FetchLike } from './origin/s3-origin.js';
import { ProtectionKeys } from './protection/protection-keys.js';
import { RouteCache } from './routing/route-cache.js';

/** Seams for unit tests; the worker uses the defaults. */
export interface AppOptions {
  fetch?: FetchLike;
  /** null: no Cache API (Node); undefined: `caches.default` when present. */
  cache?: EdgeCache | null;
  blobStore?: BlobStoreOptions;
  now?: () => number;
}

/** Everything that lives as long as the isolate: config, caches, health, the metrics buffer. */
export interface EdgeServices {
  config: EdgeConfig;
  regions: ReadonlyMap<string, EdgeRegion>;
  routes: RouteCache;
  manifests: ManifestStore;
  blobs: BlobStore;
  metrics: MetricsShipper | undefined;
  /** The protected hosts' signing key; undefined when the edge has none (protected hosts answer 503). */
  protection: ProtectionKeys | undefined;
}

export function createServices(env: Bindings, options: AppOptions): EdgeServices {
  const config = parseEdgeConfig(env);
  const now = options.now ?? Date.now;
  const cache = options.cache === null ? undefined : (options.cache ?? defaultEdgeCache());
  const origin = new S3Origin({
    credentials:
      config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
        ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY }
        : undefined,
    timeoutMs: config.ORIGIN_TIMEOUT_MS,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  // Each failure the health tracker hears of sends a request on to the next region: a failover.
  const health = new RegionHealth(10_000, now, (region) => metrics?.recordFailover(region));
  const metrics =
    config.METRICS_URL && config.METRICS_TOKEN
      ? new MetricsShipper({
          metricsUrl: config.METRICS_URL,
          token: config.METRICS_TOKEN,
          flushIntervalMs: config.METRICS_FLUSH_INTERVAL_MS,
          now,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        })
      : undefined;
  const onIntegrityFailure: IntegrityFailureListener = ({ region, hash }) => {
    // Wrong bytes under a content address mean a corrupted or tampered bucket: worth a look.
    console.warn('blob failed verification; trying the next region', { region, hash });
    metrics?.recordIntegrityFailure(region);
  };
  return {
    config,
    regions: new Map(config.REGIONS.map((r) => [r.id, r])),
    routes: new RouteCache(env.ROUTES, config.ROUTE_CACHE_TTL_MS, 10_000, now),
    manifests: new ManifestStore(origin, health, cache),
    blobs: new BlobStore(
      origin,
      health,
      cache,
      options.blobStore ?? DEFAULT_BLOB_STORE_OPTIONS,
      onIntegrityFailure,
    ),
    metrics,
    protection:
      config.PROTECTION_SIGNING_KEY && config.PROTECTION_AUTH_URL
        ? new ProtectionKeys(config.PROTECTION_SIGNING_KEY, config.PROTECTION_AUTH_URL)
        : undefined,
  };
}

/**
 * One services object per env: workerd hands the same env object to every request of an isolate,
 * so the config is parsed once and the caches survive between requests.
 */
export function servicesResolver(options: AppOptions): (env: Bindings) => EdgeServices {
  const byEnv = new WeakMap<Bindings, EdgeServices>();
  return (env) => {
    let services = byEnv.get(env);
    if (!services) {
      services = createServices(env, options);
      byEnv.set(env, services);
    }
    return services;
  };
}

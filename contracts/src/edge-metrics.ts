import { z } from 'zod';

/**
 * Upper bounds (milliseconds) of the edge's request-latency buckets. The worker counts into
 * these and the control plane exposes them as a Prometheus histogram, so both sides must agree;
 * a batch carries one extra count for "+Inf".
 */
export const EDGE_LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

export const EdgeStatusClassSchema = z.enum(['1xx', '2xx', '3xx', '4xx', '5xx']);
export type EdgeStatusClass = z.infer<typeof EdgeStatusClassSchema>;

/** hit: served from the edge cache; miss: read from an origin; none: no file was read (redirect, 304, error). */
export const EdgeCacheStatusSchema = z.enum(['hit', 'miss', 'none']);
export type EdgeCacheStatus = z.infer<typeof EdgeCacheStatusSchema>;

/** Host label for requests whose Host matched no route: keeps random Host headers from exploding cardinality. */
export const EDGE_UNKNOWN_HOST = '_unknown';
/** Region label when no region served (unknown host, platform pages). */
export const EDGE_NO_REGION = '_none';

/** The counts of one label set over one flush window. */
export const EdgeMetricSeriesSchema = z.object({
  host: z.string().min(1).max(253),
  statusClass: EdgeStatusClassSchema,
  region: z.string().min(1).max(32),
  cache: EdgeCacheStatusSchema,
  requests: z.number().int().positive(),
  bytes: z.number().int().nonnegative(),
  latencyMsSum: z.number().nonnegative(),
  /** Non-cumulative counts per EDGE_LATENCY_BUCKETS_MS bound, then one for "+Inf". */
  latencyBuckets: z
    .array(z.number().int().nonnegative())
    .length(
      EDGE_LATENCY_BUCKETS_MS.length + 1,
      `expected ${EDGE_LATENCY_BUCKETS_MS.length + 1} bucket counts`,
    ),
});
export type EdgeMetricSeries = z.infer<typeof EdgeMetricSeriesSchema>;

/** Blobs one region served whose bytes did not hash to their key, over one flush window. */
export const EdgeIntegrityFailuresSchema = z.object({
  region: z.string().min(1).max(32),
  failures: z.number().int().positive(),
});
export type EdgeIntegrityFailures = z.infer<typeof EdgeIntegrityFailuresSchema>;

/**
 * Times the edge moved on from a region (an error, a timeout, a corrupt object; not a 404, which
 * only means an incomplete copy) and tried the next one, over one flush window.
 */
export const EdgeFailoversSchema = z.object({
  region: z.string().min(1).max(32),
  failovers: z.number().int().positive(),
});
export type EdgeFailovers = z.infer<typeof EdgeFailoversSchema>;

/** What the edge POSTs to `${METRICS_URL}/internal/edge-metrics`. */
export const EdgeMetricsBatchSchema = z.object({
  v: z.literal(1),
  /** Which isolate sent it, for logs; not a metric label. */
  source: z.string().max(128).optional(),
  sentAt: z.iso.datetime(),
  series: z.array(EdgeMetricSeriesSchema).max(5000),
  /** Absent when there were none, and from edges older than the field. */
  integrityFailures: z.array(EdgeIntegrityFailuresSchema).max(1000).optional(),
  /** Absent when there were none, and from edges older than the field. */
  failovers: z.array(EdgeFailoversSchema).max(1000).optional(),
});
export type EdgeMetricsBatch = z.infer<typeof EdgeMetricsBatchSchema>;

export const EDGE_METRICS_PATH = '/internal/edge-metrics';

import type { ExecutionContext, KVNamespace } from '@cloudflare/workers-types';

/**
 * What the worker receives from wrangler.toml / Miniflare. Vars arrive as strings, except that
 * wrangler lets `[vars]` hold JSON, so REGIONS may already be an array.
 */
export interface Bindings {
  ROUTES: KVNamespace;
  ROOT_DOMAIN?: string;
  REGIONS?: string | unknown[];
  DEV_MODE?: string;
  ROUTE_CACHE_TTL_MS?: string;
  ORIGIN_TIMEOUT_MS?: string;
  METRICS_URL?: string;
  METRICS_TOKEN?: string;
  METRICS_FLUSH_INTERVAL_MS?: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
  /** Shared with the control plane: signs protected hosts' grants and cookies (HMAC-SHA256). */
  PROTECTION_SIGNING_KEY?: string;
  /** The control plane's public URL, where visitors of a protected host are sent to sign in. */
  PROTECTION_AUTH_URL?: string;
}

/** The part of ExecutionContext the edge uses, so unit tests can pass a plain object. */
export type WaitUntil = Pick<ExecutionContext, 'waitUntil'>;

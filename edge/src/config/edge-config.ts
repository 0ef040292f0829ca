import { z } from 'zod';
import {
  EdgeRegionsSchema,
  envBoolean,
  envInt,
  envUrl,
  parseConfig,
  PROTECTION_KEY_MIN,
} from '@deploysphere/contracts';
import type { Bindings } from './bindings.js';

/** How long an isolate trusts a route record; a promote is visible everywhere within this (plus KV propagation). */
export const DEFAULT_ROUTE_CACHE_TTL_MS = 3000;
/** Time to first byte allowed per origin before the next region is tried. */
export const DEFAULT_ORIGIN_TIMEOUT_MS = 2000;
/** Metrics leave an isolate at most this often (on the next request after the interval). */
export const DEFAULT_METRICS_FLUSH_INTERVAL_MS = 10_000;

const jsonArray = z.preprocess((value, ctx) => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected a JSON array of regions' });
    return z.NEVER;
  }
}, EdgeRegionsSchema);

const optionalSecret = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());

export const EdgeConfigSchema = z
  .object({
    ROOT_DOMAIN: z
      .string()
      .regex(/^[a-z0-9.-]+$/, 'expected a lowercase domain without port, like example.com')
      .default('localhost'),
    REGIONS: jsonArray,
    DEV_MODE: envBoolean(false),
    ROUTE_CACHE_TTL_MS: envInt(DEFAULT_ROUTE_CACHE_TTL_MS),
    ORIGIN_TIMEOUT_MS: envInt(DEFAULT_ORIGIN_TIMEOUT_MS, 1),
    METRICS_URL: envUrl(['http', 'https']),
    METRICS_TOKEN: optionalSecret,
    METRICS_FLUSH_INTERVAL_MS: envInt(DEFAULT_METRICS_FLUSH_INTERVAL_MS),
    S3_ACCESS_KEY_ID: optionalSecret,
    S3_SECRET_ACCESS_KEY: optionalSecret,
    PROTECTION_SIGNING_KEY: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.string().min(PROTECTION_KEY_MIN, `must be at least ${PROTECTION_KEY_MIN} characters`).optional(),
    ),
    PROTECTION_AUTH_URL: envUrl(['http', 'https']),
  })
  .refine((c) => !c.METRICS_URL || c.METRICS_TOKEN, {
    message: 'METRICS_TOKEN is required when METRICS_URL is set',
    path: ['METRICS_TOKEN'],
  })
  .refine((c) => Boolean(c.S3_ACCESS_KEY_ID) === Boolean(c.S3_SECRET_ACCESS_KEY), {
    message: 'set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither',
    path: ['S3_SECRET_ACCESS_KEY'],
  })
  .refine((c) => Boolean(c.PROTECTION_SIGNING_KEY) === Boolean(c.PROTECTION_AUTH_URL), {
    message: 'set both PROTECTION_SIGNING_KEY and PROTECTION_AUTH_URL, or neither',
    path: ['PROTECTION_AUTH_URL'],
  });

export type EdgeConfig = z.output<typeof EdgeConfigSchema>;

const VAR_NAMES = [
  'ROOT_DOMAIN',
  'REGIONS',
  'DEV_MODE',
  'ROUTE_CACHE_TTL_MS',
  'ORIGIN_TIMEOUT_MS',
  'METRICS_URL',
  'METRICS_TOKEN',
  'METRICS_FLUSH_INTERVAL_MS',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'PROTECTION_SIGNING_KEY',
  'PROTECTION_AUTH_URL',
] as const;

/** Parses the worker's vars; throws ConfigError naming every bad variable at once. */
export function parseEdgeConfig(env: Partial<Record<(typeof VAR_NAMES)[number], unknown>>): EdgeConfig {
  const strings: Record<string, string | undefined> = {};
  for (const name of VAR_NAMES) {
    const value = env[name];
    strings[name] = value === undefined || typeof value === 'string' ? value : JSON.stringify(value);
  }
  return parseConfig(EdgeConfigSchema, strings, 'edge worker');
}

export type EdgeVars = Omit<Bindings, 'ROUTES'>;

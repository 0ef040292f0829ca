import { RouteRecordSchema, routeKey, type RouteRecord } from '@deploysphere/contracts';

/** The read side of the ROUTES KV namespace. */
export interface RouteSource {
  get(key: string): Promise<string | null>;
}

interface Entry {
  record: RouteRecord | null;
  expiresAt: number;
  /** When a request started re-reading this expired entry; until then others serve it as is. */
  refreshingSince?: number;
}

export type RouteLogger = (message: string, detail: Record<string, unknown>) => void;

/**
 * How long other requests keep serving an expired record while one request re-reads it. It also
 * bounds the staleness when that request is cancelled mid-read (its read then never completes):
 * after this, the next request reads KV itself.
 */
export const DEFAULT_REFRESH_GRACE_MS = 1000;

/**
 * Route records cached in the isolate for `ttlMs`, so hot hosts do not touch KV on every request.
 * Misses are cached too (a flood of random Host headers must not become a flood of KV reads).
 * A promote is visible once the entry expires: no purge is needed.
 *
 * No request ever awaits a KV read that another request started. workerd binds I/O and promises
 * to the request that created them, and under sustained load it cancelled requests waiting on
 * another request's read as hung ("The Workers runtime canceled this request because it detected
 * that your Worker's code had hung"): a shared in-flight read turned route refreshes into 500s.
 * So when an entry expires, the first request re-reads KV for itself and the requests arriving
 * meanwhile serve the expired record, which is at most one KV round trip older. A host with no
 * entry at all is read by each request that asks for it until one read lands.
 *
 * KV's own `cacheTtl` option is deliberately unused: its minimum (30 s) would hold a promote back.
 */
export class RouteCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly source: RouteSource,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
    private readonly log: RouteLogger = (message, detail) => console.warn(message, detail),
    private readonly refreshGraceMs = DEFAULT_REFRESH_GRACE_MS,
  ) {}

  async lookup(hostname: string): Promise<RouteRecord | null> {
    const cached = this.entries.get(hostname);
    if (cached) {
      const now = this.now();
      if (cached.expiresAt > now) return cached.record;
      const refreshing =
        cached.refreshingSince !== undefined && now - cached.refreshingSince < this.refreshGraceMs;
      if (refreshing) return cached.record;
      cached.refreshingSince = now;
    }
    try {
      return await this.load(hostname);
    } catch (error) {
      // Let the next request try again rather than serve the old record for the whole grace.
      if (cached && this.entries.get(hostname) === cached) delete cached.refreshingSince;
      throw error;
    }
  }

  private async load(hostname: string): Promise<RouteRecord | null> {
    const raw = await this.source.get(routeKey(hostname));
    const record = raw === null ? null : this.parse(hostname, raw);
    if (this.ttlMs > 0) {
      this.entries.delete(hostname);
      if (this.entries.size >= this.maxEntries) {
        // Maps iterate in insertion order, so the first key is the oldest entry.
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.entries.delete(oldest.value);
      }
      this.entries.set(hostname, { record, expiresAt: this.now() + this.ttlMs });
    }
    return record;
  }

  /** A corrupt record is logged and treated as absent: the visitor sees a 404, not a 500. */
  private parse(hostname: string, raw: string): RouteRecord | null {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      this.log('route record is not JSON', { hostname });
      return null;
    }
    const result = RouteRecordSchema.safeParse(json);
    if (!result.success) {
      this.log('route record does not match RouteRecordSchema', {
        hostname,
        issue: result.error.issues[0]?.message,
      });
      return null;
    }
    return result.data;
  }
}

import { RouteRecordSchema, routeKey, type RouteRecord } from '@deploysphere/contracts';

/** The read side of the ROUTES KV namespace. */
export interface RouteSource {
  get(key: string): Promise<string | null>;
}

interface Entry {
  record: RouteRecord | null;
  expiresAt: number;
}

export type RouteLogger = (message: string, detail: Record<string, unknown>) => void;

/**
 * Route records cached in the isolate for `ttlMs`, so hot hosts do not touch KV on every request.
 * Misses are cached too (a flood of random Host headers must not become a flood of KV reads).
 * A promote is visible once the entry expires: no purge is needed.
 *
 * KV's own `cacheTtl` option is deliberately unused: its minimum (30 s) would hold a promote back.
 */
export class RouteCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<RouteRecord | null>>();

  constructor(
    private readonly source: RouteSource,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
    private readonly log: RouteLogger = (message, detail) => console.warn(message, detail),
  ) {}

  async lookup(hostname: string): Promise<RouteRecord | null> {
    const cached = this.entries.get(hostname);
    if (cached && cached.expiresAt > this.now()) return cached.record;
    // Concurrent requests for one host share one KV read.
    const pending = this.inflight.get(hostname);
    if (pending) return pending;
    const load = this.load(hostname).finally(() => this.inflight.delete(hostname));
    this.inflight.set(hostname, load);
    return load;
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

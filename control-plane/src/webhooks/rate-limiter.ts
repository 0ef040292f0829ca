/**
 * Token buckets per key, in memory. One implementation for the hook URLs: they are public, so a
 * flood (signed or not) must cost little and must not crowd out other keys. Each key holds up to
 * `burst` tokens and regains `perMinute` a minute; a request takes one.
 *
 * Per process: behind several control planes each has its own budget, which is fine for a guard
 * against floods (it is not a quota).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly opts: { burst: number; perMinute: number; maxKeys?: number },
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Takes a token: 0 when allowed, else the seconds to wait before the next one. */
  take(key: string): number {
    const now = this.now();
    const rate = this.opts.perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: this.opts.burst, at: now };
    bucket.tokens = Math.min(this.opts.burst, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    this.buckets.delete(key); // re-inserted last: the map's order is least recently used first
    this.buckets.set(key, bucket);
    this.evict();
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate / 1000));
  }

  /** Forgets the least recently used keys past the limit, so many callers cannot grow the map. */
  private evict(): void {
    const max = this.opts.maxKeys ?? 10_000;
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= max) return;
      this.buckets.delete(key);
    }
  }
}

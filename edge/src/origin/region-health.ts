/**
 * Remembers regions that failed recently, so the next requests try them last instead of paying
 * the origin timeout again while an outage lasts. A region is never skipped outright: if every
 * region is marked, they are still tried in distance order.
 */
export class RegionHealth {
  private readonly downUntil = new Map<string, number>();

  constructor(
    private readonly penaltyMs = 10_000,
    private readonly now: () => number = Date.now,
    /** Told of every failure: each one sends the request on to the next region (a failover). */
    private readonly onFailed?: (regionId: string) => void,
  ) {}

  markFailed(regionId: string): void {
    this.downUntil.set(regionId, this.now() + this.penaltyMs);
    this.onFailed?.(regionId);
  }

  markHealthy(regionId: string): void {
    this.downUntil.delete(regionId);
  }

  isSuspect(regionId: string): boolean {
    const until = this.downUntil.get(regionId);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.downUntil.delete(regionId);
    return false;
  }

  /** Healthy regions first, each group keeping its (distance) order. */
  prioritise<T extends { id: string }>(regions: readonly T[]): T[] {
    const healthy = regions.filter((r) => !this.isSuspect(r.id));
    return healthy.length === regions.length
      ? [...regions]
      : [...healthy, ...regions.filter((r) => this.isSuspect(r.id))];
  }
}

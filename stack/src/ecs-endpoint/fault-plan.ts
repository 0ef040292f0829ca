import type { CapacityProviderName } from './task.js';

interface ThrottleRule {
  operation?: string;
  remaining: number;
}

/**
 * The faults armed for upcoming requests. Each is consumed by the request it hits, so a test
 * arms exactly as many failures as it means to see.
 */
export class FaultPlan {
  private readonly capacity = new Map<CapacityProviderName, number>();
  private readonly throttles: ThrottleRule[] = [];
  private spotInterrupts: number[] = [];

  addCapacityFailures(provider: CapacityProviderName, count: number): void {
    this.capacity.set(provider, (this.capacity.get(provider) ?? 0) + count);
  }

  addThrottle(count: number, operation?: string): void {
    this.throttles.push({ operation, remaining: count });
  }

  addSpotInterrupt(afterMs: number): void {
    this.spotInterrupts.push(afterMs);
  }

  /** True when this RunTask on `provider` should fail for capacity; consumes one. */
  takeCapacityFailure(provider: CapacityProviderName): boolean {
    const left = this.capacity.get(provider) ?? 0;
    if (left <= 0) return false;
    this.capacity.set(provider, left - 1);
    return true;
  }

  /** True when this request should be throttled; consumes one from the first matching rule. */
  takeThrottle(operation: string): boolean {
    const rule = this.throttles.find((r) => r.remaining > 0 && (!r.operation || r.operation === operation));
    if (!rule) return false;
    rule.remaining--;
    this.throttles.splice(0, this.throttles.length, ...this.throttles.filter((r) => r.remaining > 0));
    return true;
  }

  /** The delay of the next armed Spot interruption, consumed by a task that lands on Spot. */
  takeSpotInterrupt(): number | undefined {
    return this.spotInterrupts.shift();
  }
}

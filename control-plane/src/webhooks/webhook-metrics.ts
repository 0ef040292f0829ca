import { Counter, type Registry } from 'prom-client';

export type RejectReason = 'unknown_hook' | 'missing_signature' | 'bad_signature' | 'rate_limited';

/** Counted once per registry: a second control plane in one process (tests) shares the series. */
function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  return (
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: [registry] })
  );
}

/**
 * The hooks' Prometheus counters. A rejected delivery is counted here and nowhere else: nothing
 * about it is stored, so that an unauthenticated caller cannot fill the database.
 */
export class WebhookMetrics {
  private readonly rejectedTotal: Counter<'provider' | 'reason'>;
  private readonly handledTotal: Counter<'provider' | 'outcome'>;

  constructor(registry: Registry) {
    this.rejectedTotal = counter(
      registry,
      'deploysphere_webhook_deliveries_rejected_total',
      'Hook deliveries refused before anything was recorded: unknown hook, missing or bad signature, rate limit',
      ['provider', 'reason'],
    );
    this.handledTotal = counter(
      registry,
      'deploysphere_webhook_deliveries_total',
      'Authenticated hook deliveries by outcome: deployed, skipped (a skipped deployment recorded), ignored, or duplicate (a replayed delivery id)',
      ['provider', 'outcome'],
    );
  }

  rejected(provider: string, reason: RejectReason): void {
    this.rejectedTotal.inc({ provider, reason });
  }

  handled(provider: string, outcome: 'deployed' | 'skipped' | 'ignored' | 'duplicate'): void {
    this.handledTotal.inc({ provider, outcome });
  }
}

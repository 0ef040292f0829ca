import type { EffectiveRetention, ExpiryReason, RetentionSettings } from '@deploysphere/contracts';

/** A deployment as the policy sees it. */
export interface RetentionCandidate {
  id: string;
  /** skipped deployments have no files: the policy never picks them (nothing to remove). */
  status: 'queued' | 'building' | 'ready' | 'error' | 'cancelled' | 'skipped';
  target: 'production' | 'preview';
  branch: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  expiredAt: Date | null;
}

export interface RetentionInput {
  deployments: readonly RetentionCandidate[];
  /** The project's production deployment: always kept. */
  productionDeploymentId: string | null;
  /** Deployments a branch alias serves: always kept. */
  aliasTargets: ReadonlySet<string>;
  retention: EffectiveRetention;
  /** Failed and cancelled deployments are expired only once they finished this long ago. */
  graceMs: number;
  now: Date;
}

export interface Expiry {
  id: string;
  reason: ExpiryReason;
}

const DAY_MS = 86_400_000;

/** The platform's defaults where the project has none. */
export function effectiveRetention(
  project: RetentionSettings,
  defaults: EffectiveRetention,
): EffectiveRetention {
  return {
    retainReadyPerBranch: project.retainReadyPerBranch ?? defaults.retainReadyPerBranch,
    previewMaxAgeDays: project.previewMaxAgeDays ?? defaults.previewMaxAgeDays,
    buildCacheExpiryDays: project.buildCacheExpiryDays ?? defaults.buildCacheExpiryDays,
  };
}

/**
 * The lane a ready deployment counts in for "keep the last N": all production deployments of a
 * project are one lane (a rollback may pick any of them), each branch's previews another.
 */
export function laneOf(d: Pick<RetentionCandidate, 'target' | 'branch'>): string {
  return d.target === 'production' ? 'production' : `preview:${d.branch ?? ''}`;
}

/**
 * Which of a project's deployments to expire now, and why. Never: the production deployment, a
 * branch alias's target, an unfinished deployment, or one already expired. Otherwise a ready
 * deployment beyond the newest N of its lane ('keep-last'), a ready preview older than D days
 * ('preview-age'), and a failed or cancelled one whose files (if any) no route serves ('failed').
 */
export function expiriesFor(input: RetentionInput): Expiry[] {
  const { retention, now } = input;
  const out: Expiry[] = [];
  const protectedIds = new Set(input.aliasTargets);
  if (input.productionDeploymentId) protectedIds.add(input.productionDeploymentId);
  const lanes = new Map<string, RetentionCandidate[]>();
  for (const d of input.deployments) {
    if (d.status !== 'ready') continue;
    const lane = lanes.get(laneOf(d)) ?? [];
    lane.push(d);
    lanes.set(laneOf(d), lane);
  }
  const beyondLast = new Set<string>();
  for (const lane of lanes.values()) {
    // Newest first; the kept N count expired ones too, so retention never reaches further back
    // over time (an expired deployment cannot come back).
    lane.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
    for (const d of lane.slice(retention.retainReadyPerBranch)) beyondLast.add(d.id);
  }
  const maxAgeMs = retention.previewMaxAgeDays * DAY_MS;
  for (const d of input.deployments) {
    if (d.expiredAt || protectedIds.has(d.id)) continue;
    if (d.status === 'ready') {
      if (d.target === 'preview' && now.getTime() - d.createdAt.getTime() > maxAgeMs)
        out.push({ id: d.id, reason: 'preview-age' });
      else if (beyondLast.has(d.id)) out.push({ id: d.id, reason: 'keep-last' });
    } else if (d.status === 'error' || d.status === 'cancelled') {
      const finished = (d.finishedAt ?? d.createdAt).getTime();
      if (now.getTime() - finished > input.graceMs) out.push({ id: d.id, reason: 'failed' });
    }
  }
  return out;
}

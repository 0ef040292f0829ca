import { describe, expect, it } from 'vitest';
import { effectiveRetention, expiriesFor, type RetentionCandidate } from './retention-policy.js';

const now = new Date('2026-12-03T12:00:00.000Z');
const daysAgo = (d: number, minutes = 0) => new Date(now.getTime() - d * 86_400_000 - minutes * 60_000);

let seq = 0;
function dep(over: Partial<RetentionCandidate>): RetentionCandidate {
  seq++;
  return {
    id: `d${String(seq).padStart(3, '0')}`,
    status: 'ready',
    target: 'production',
    branch: null,
    createdAt: daysAgo(0, 1000 - seq),
    finishedAt: daysAgo(0, 1000 - seq),
    expiredAt: null,
    ...over,
  };
}

const retention = { retainReadyPerBranch: 2, previewMaxAgeDays: 7, buildCacheExpiryDays: 7 };
const base = { aliasTargets: new Set<string>(), retention, graceMs: 3_600_000, now };

describe('expiriesFor', () => {
  it('keeps the newest N ready deployments of each lane and production, expires the rest', () => {
    const prod = [1, 2, 3, 4].map(() => dep({}));
    const feature = [1, 2, 3].map(() => dep({ target: 'preview', branch: 'feature' }));
    const other = [dep({ target: 'preview', branch: 'other' })];
    // The oldest production deployment is production again after a rollback.
    const out = expiriesFor({
      ...base,
      deployments: [...prod, ...feature, ...other],
      productionDeploymentId: prod[0]!.id,
    });
    expect(out).toEqual([
      { id: prod[1]!.id, reason: 'keep-last' },
      { id: feature[0]!.id, reason: 'keep-last' },
    ]);
  });

  it('expires previews older than D days unless an alias serves them, and never production', () => {
    const oldAliased = dep({ target: 'preview', branch: 'a', createdAt: daysAgo(30) });
    const old = dep({ target: 'preview', branch: 'b', createdAt: daysAgo(8) });
    const young = dep({ target: 'preview', branch: 'c', createdAt: daysAgo(6) });
    const oldProd = dep({ createdAt: daysAgo(400) });
    const out = expiriesFor({
      ...base,
      deployments: [oldAliased, old, young, oldProd],
      aliasTargets: new Set([oldAliased.id]),
      productionDeploymentId: oldProd.id,
    });
    expect(out).toEqual([{ id: old.id, reason: 'preview-age' }]);
  });

  it('leaves unfinished and already expired deployments alone', () => {
    const deployments = [
      dep({ status: 'queued' }),
      dep({ status: 'building' }),
      dep({ expiredAt: daysAgo(1) }),
      dep({}),
      dep({}),
      dep({}),
    ];
    const out = expiriesFor({ ...base, deployments, productionDeploymentId: deployments[5]!.id });
    // Unfinished and already expired ones are never (re)expired; of the three ready ones the
    // oldest is beyond the last 2, and the newest is production.
    expect(out).toEqual([{ id: deployments[3]!.id, reason: 'keep-last' }]);
  });

  it('never picks a skipped deployment: it has no files to remove', () => {
    const skipped = dep({ status: 'skipped', finishedAt: daysAgo(90), target: 'preview' });
    expect(expiriesFor({ ...base, deployments: [skipped], productionDeploymentId: null })).toEqual([]);
  });

  it('expires failed and cancelled deployments only after the grace period', () => {
    const oldFail = dep({ status: 'error', finishedAt: daysAgo(0, 61) });
    const newFail = dep({ status: 'cancelled', finishedAt: daysAgo(0, 59) });
    const out = expiriesFor({ ...base, deployments: [oldFail, newFail], productionDeploymentId: null });
    expect(out).toEqual([{ id: oldFail.id, reason: 'failed' }]);
  });
});

describe('effectiveRetention', () => {
  it("fills in the platform's defaults where the project has none", () => {
    expect(
      effectiveRetention(
        { retainReadyPerBranch: 3, previewMaxAgeDays: null, buildCacheExpiryDays: null },
        { retainReadyPerBranch: 10, previewMaxAgeDays: 30, buildCacheExpiryDays: 7 },
      ),
    ).toEqual({ retainReadyPerBranch: 3, previewMaxAgeDays: 30, buildCacheExpiryDays: 7 });
  });
});

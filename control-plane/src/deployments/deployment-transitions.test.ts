import { DeploymentStatusSchema, TERMINAL_STATUSES, type DeploymentStatus } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import { allows, TRANSITIONS, type Transition } from './deployment-transitions.js';

const STATUSES = DeploymentStatusSchema.options;

/** The whole table, spelled out: status now → the transitions it allows. */
const EXPECTED: Record<DeploymentStatus, Transition[]> = {
  queued: ['claim', 'prebuilt', 'fail', 'cancel', 'supersede', 'skip'],
  building: ['phase', 'ready', 'fail', 'cancel', 'ignoreBuild', 'sourceUploaded'],
  ready: [],
  error: [],
  cancelled: [],
  skipped: [],
};

describe('the deployment transition table', () => {
  it.each(STATUSES)('from %s allows exactly the expected transitions', (status) => {
    const allowed = (Object.keys(TRANSITIONS) as Transition[]).filter((t) => allows(t, status));
    expect(allowed.sort()).toEqual([...EXPECTED[status]].sort());
  });

  it('never leaves a finished deployment', () => {
    for (const status of TERMINAL_STATUSES) {
      for (const t of Object.keys(TRANSITIONS) as Transition[])
        expect(allows(t, status), `${t} from ${status}`).toBe(false);
    }
  });

  it('skips only into skipped, and nothing leaves skipped', () => {
    expect(TRANSITIONS.skip).toEqual({ from: ['queued'], to: 'skipped' });
    expect(TRANSITIONS.ignoreBuild).toEqual({ from: ['building'], to: 'skipped' });
    expect(TERMINAL_STATUSES.has('skipped')).toBe(true);
    // A skipped deployment can never become ready (so never production or an alias), nor be
    // claimed for a build, nor be cancelled or failed afterwards.
    for (const t of ['claim', 'prebuilt', 'ready', 'phase', 'fail', 'cancel', 'supersede'] as const)
      expect(allows(t, 'skipped'), t).toBe(false);
    // A finished deployment is never skipped after the fact.
    for (const status of ['ready', 'error', 'cancelled'] as const) {
      expect(allows('skip', status)).toBe(false);
      expect(allows('ignoreBuild', status)).toBe(false);
    }
  });

  it('reaches every status, and only ready, error, cancelled and skipped end a deployment', () => {
    const targets = new Set(Object.values(TRANSITIONS).map((t) => t.to));
    // queued only from a CLI source upload whose archive is stored (sourceUploaded).
    expect([...targets].sort()).toEqual([...STATUSES].sort());
    const ends = STATUSES.filter((s) => EXPECTED[s].length === 0);
    expect(ends.sort()).toEqual([...TERMINAL_STATUSES].sort());
  });
});

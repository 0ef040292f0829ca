import { DeploymentStatusSchema, TERMINAL_STATUSES, type DeploymentStatus } from '@deploysphere/contracts';
import { describe, expect, it } from 'vitest';
import { allows, TRANSITIONS, type Transition } from './deployment-transitions.js';

const STATUSES = DeploymentStatusSchema.options;

/** The whole table, spelled out: status now → the transitions it allows. */
const EXPECTED: Record<DeploymentStatus, Transition[]> = {
  queued: ['claim', 'prebuilt', 'fail', 'cancel', 'supersede'],
  building: ['phase', 'ready', 'fail', 'cancel'],
  ready: [],
  error: [],
  cancelled: [],
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

  it('reaches every status, and only ready, error and cancelled end a deployment', () => {
    const targets = new Set(Object.values(TRANSITIONS).map((t) => t.to));
    expect([...targets].sort()).toEqual(STATUSES.filter((s) => s !== 'queued').sort());
    const ends = STATUSES.filter((s) => EXPECTED[s].length === 0);
    expect(ends.sort()).toEqual([...TERMINAL_STATUSES].sort());
  });
});

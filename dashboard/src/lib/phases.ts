import { TERMINAL_STATUSES, type DeploymentPhase, type DeploymentView } from '@deploysphere/contracts';

export type StepName = 'queued' | 'clone' | 'install' | 'build' | 'upload' | 'ready';
export type StepState = 'done' | 'current' | 'pending' | 'failed';
export interface Step {
  name: StepName;
  state: StepState;
  /** Milliseconds spent in the step so far; undefined when it has not started. */
  elapsedMs: number | undefined;
}

export const STEP_NAMES: readonly StepName[] = ['queued', 'clone', 'install', 'build', 'upload', 'ready'];
const BUILD_PHASES: readonly DeploymentPhase[] = ['clone', 'install', 'build', 'upload'];

/**
 * The stepper's view of a deployment. The worker's `activate` phase (the KV switch) is the last
 * stretch towards `ready`, so it shows on the ready step. Finished phases take their measured
 * durations; the running one ticks from the end of the ones before it.
 */
export function deploymentSteps(d: DeploymentView, now: number): Step[] {
  const created = Date.parse(d.createdAt);
  const started = d.startedAt ? Date.parse(d.startedAt) : undefined;
  const finished = d.finishedAt ? Date.parse(d.finishedAt) : undefined;
  const end = finished ?? now;
  const durations = d.stats.phaseDurationsMs;
  const terminal = TERMINAL_STATUSES.has(d.status);
  // Skipped stops where it stopped, like a failure, though on purpose (the stepper says so).
  const failed = d.status === 'error' || d.status === 'cancelled' || d.status === 'skipped';

  // Where the deployment is (or where it stopped): an index into STEP_NAMES.
  let at: number;
  if (d.status === 'ready') at = STEP_NAMES.length;
  else if (d.phase === 'activate') at = 5;
  else if (d.phase) at = STEP_NAMES.indexOf(d.phase);
  else if (started === undefined) at = 0;
  else {
    // No phase (e.g. after a failure): the first build phase without a measured duration.
    const unmeasured = BUILD_PHASES.findIndex((p) => durations[p] === undefined);
    at = unmeasured === -1 ? 5 : unmeasured + 1;
  }

  let spentBefore = 0;
  return STEP_NAMES.map((name, i): Step => {
    let elapsedMs: number | undefined;
    if (name === 'queued') {
      elapsedMs = (started ?? (terminal ? end : now)) - created;
    } else if (name === 'ready') {
      elapsedMs =
        durations.activate ?? (i === at && started !== undefined ? end - started - spentBefore : undefined);
    } else {
      const measured = durations[name as DeploymentPhase];
      if (measured !== undefined) elapsedMs = measured;
      else if (i === at && started !== undefined) elapsedMs = Math.max(0, end - started - spentBefore);
      if (BUILD_PHASES.includes(name as DeploymentPhase) && measured !== undefined) spentBefore += measured;
    }
    let state: StepState;
    if (i < at) state = 'done';
    else if (i === at) state = failed ? 'failed' : 'current';
    else state = 'pending';
    if (d.status === 'ready') state = 'done';
    if (state === 'pending') elapsedMs = undefined;
    return { name, state, elapsedMs: elapsedMs === undefined ? undefined : Math.max(0, elapsedMs) };
  });
}

import type { DeploymentView } from '@deploysphere/contracts';
import { formatDuration } from '../lib/format.js';
import { deploymentSteps, type StepName } from '../lib/phases.js';

const LABELS: Record<StepName, string> = {
  queued: 'Queued',
  clone: 'Clone',
  install: 'Install',
  build: 'Build',
  upload: 'Upload',
  ready: 'Ready',
};

const STATE_TEXT = { done: 'done', current: 'in progress', pending: 'not started', failed: 'stopped here' };

/** queued → clone → install → build → upload → ready, with the time spent in each. */
export function PhaseStepper({ deployment, now }: { deployment: DeploymentView; now: number }) {
  const steps = deploymentSteps(deployment, now);
  const lastLabel =
    deployment.status === 'error'
      ? 'Failed'
      : deployment.status === 'cancelled'
        ? 'Cancelled'
        : deployment.status === 'skipped'
          ? 'Skipped'
          : null;
  return (
    <ol className="stepper" aria-label="Build phases">
      {steps.map((step) => (
        <li
          key={step.name}
          className={`step step-${step.state}`}
          aria-current={step.state === 'current' ? 'step' : undefined}
        >
          <span className="step-marker" aria-hidden="true" />
          <span className="step-label">
            {step.state === 'failed' && lastLabel ? `${LABELS[step.name]} · ${lastLabel}` : LABELS[step.name]}
          </span>
          <span className="visually-hidden">: {STATE_TEXT[step.state]}</span>
          <span className="step-time">
            {step.elapsedMs === undefined ? '' : formatDuration(step.elapsedMs)}
          </span>
        </li>
      ))}
    </ol>
  );
}

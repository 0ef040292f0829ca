import type { DeploymentPhase } from '@deploysphere/contracts';

export type BuildErrorKind =
  | 'invalid_input'
  | 'clone_failed'
  | 'command_failed'
  | 'timeout'
  | 'cancelled'
  | 'sandbox_unavailable'
  | 'output_missing'
  | 'output_too_large'
  | 'upload_failed';

/** A build failure whose message is safe and useful to show the user as the deployment's error. */
export class BuildError extends Error {
  readonly kind: BuildErrorKind;
  readonly phase: DeploymentPhase | undefined;
  readonly exitCode: number | undefined;
  /** The signal that ended a command, when one did (then exitCode is not the command's own). */
  readonly signal: string | undefined;

  constructor(
    kind: BuildErrorKind,
    message: string,
    options: { phase?: DeploymentPhase; exitCode?: number; signal?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'BuildError';
    this.kind = kind;
    this.phase = options.phase;
    this.exitCode = options.exitCode;
    this.signal = options.signal;
  }
}

/**
 * Why the worker's build was aborted when the worker itself was told to stop (SIGTERM from ECS's
 * StopTask, a Spot reclaim, or a control plane stopping the builds it runs). The worker then
 * reports no outcome: the control plane knows why it stopped the build, and decides what the
 * deployment becomes (a Spot-reclaimed build runs once more on on-demand Fargate).
 */
export class WorkerInterrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`received ${signal}`);
    this.name = 'WorkerInterrupted';
  }
}

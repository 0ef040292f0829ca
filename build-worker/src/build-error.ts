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

  constructor(
    kind: BuildErrorKind,
    message: string,
    options: { phase?: DeploymentPhase; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'BuildError';
    this.kind = kind;
    this.phase = options.phase;
    this.exitCode = options.exitCode;
  }
}

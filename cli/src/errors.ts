import { CLI_EXIT_CODES } from '@deploysphere/contracts';

export type ExitCode = (typeof CLI_EXIT_CODES)[keyof typeof CLI_EXIT_CODES];

/**
 * Every failure the CLI reports: a one-line message, a stable code and its exit code
 * (docs/cli.md). `detail` (a cause, a response body) is shown only with --debug.
 */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode,
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = 'CliError';
  }

  static usage(message: string): CliError {
    return new CliError('usage', message, CLI_EXIT_CODES.usage);
  }

  static auth(message: string): CliError {
    return new CliError('unauthorized', message, CLI_EXIT_CODES.auth);
  }

  static network(message: string, detail?: unknown): CliError {
    return new CliError('network', message, CLI_EXIT_CODES.network, detail);
  }
}

/** Anything thrown, as a CliError: an unexpected error is a failure with its message only. */
export function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  const e = err as { code?: string; message?: string };
  // Commander's own errors (unknown option, missing argument) are usage errors.
  if (typeof e?.code === 'string' && e.code.startsWith('commander.'))
    return new CliError(
      'usage',
      (e.message ?? 'bad arguments').replace(/^error: /, ''),
      CLI_EXIT_CODES.usage,
      err,
    );
  return new CliError('failure', e?.message ?? String(err), CLI_EXIT_CODES.failure, err);
}

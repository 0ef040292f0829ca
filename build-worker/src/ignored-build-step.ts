import { BuildError } from './build-error.js';
import type { LogSink } from './log-sink.js';

/** What the project's ignored build step decided: skip the build, or build. */
export type IgnoreVerdict = { skip: true; reason: string } | { skip: false };

const shown = (command: string) => (command.length > 200 ? `${command.slice(0, 200)}…` : command);

/**
 * Runs the project's "ignored build step" (docs/git-deploys.md) through `run`, which runs it in
 * the build sandbox exactly as the install and build commands are run (the user's own command,
 * `sh -c`, the project's env, no worker secrets). Vercel's semantics: exit 0 skips the build,
 * exit 1 builds it, anything else (another code, a signal, a timeout) fails the deployment with a
 * message that says so. A cancel stays a cancel.
 */
export async function ignoredBuildStep(
  command: string,
  run: (command: string) => Promise<void>,
  logs: LogSink,
): Promise<IgnoreVerdict> {
  logs.write('system', `Ignored build step: running ${shown(command)}`);
  try {
    await run(command);
  } catch (err) {
    if (!(err instanceof BuildError) || err.kind !== 'command_failed') throw err;
    if (err.signal === undefined && err.exitCode === 1) {
      logs.write('system', 'Ignored build step: exit 1, so the build goes ahead');
      return { skip: false };
    }
    const how = err.signal !== undefined ? `was killed by ${err.signal}` : `exited with code ${err.exitCode}`;
    throw new BuildError(
      'command_failed',
      `The ignored build step "${shown(command)}" ${how}: it must exit 0 to skip the build or 1 to build it, so the deployment failed. ${err.message}`,
      { phase: 'clone', ...(err.exitCode !== undefined ? { exitCode: err.exitCode } : {}), cause: err },
    );
  }
  logs.write('system', 'Ignored build step: exit 0, so the build is skipped (nothing is built or uploaded)');
  return { skip: true, reason: `the ignored build step "${shown(command)}" exited 0` };
}

import { describe, expect, it } from 'vitest';
import { BuildError } from './build-error.js';
import { ignoredBuildStep } from './ignored-build-step.js';
import { CollectingLogSink } from './log-sink.js';

// How the step's outcome is read. The sandbox run itself is covered end to end by
// control-plane/test/git-skipped-deployments.test.ts; here `run` throws what runInSandbox throws.

const exited = (code: number) => async () => {
  throw new BuildError(
    'command_failed',
    `The ignored build step command "x" failed with exit code ${code}.`,
    {
      phase: 'clone',
      exitCode: code,
    },
  );
};

describe('the ignored build step', () => {
  it('exit 0 skips, with a reason naming the command', async () => {
    const logs = new CollectingLogSink();
    const verdict = await ignoredBuildStep('git diff --quiet HEAD^ HEAD -- .', async () => undefined, logs);
    expect(verdict).toEqual({
      skip: true,
      reason: 'the ignored build step "git diff --quiet HEAD^ HEAD -- ." exited 0',
    });
  });

  it('exit 1 builds', async () => {
    expect(await ignoredBuildStep('exit 1', exited(1), new CollectingLogSink())).toEqual({ skip: false });
  });

  it.each([2, 127, 128, 255])('exit %i fails the build, saying what the codes mean', async (code) => {
    const err = await ignoredBuildStep('check', exited(code), new CollectingLogSink()).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).kind).toBe('command_failed');
    expect((err as BuildError).phase).toBe('clone');
    expect((err as BuildError).message).toContain(`"check" exited with code ${code}`);
    expect((err as BuildError).message).toContain('must exit 0 to skip the build or 1 to build it');
  });

  it('a signal is a failure even when the code looks like 1', async () => {
    const killed = async () => {
      throw new BuildError('command_failed', 'killed', { phase: 'clone', exitCode: 1, signal: 'SIGKILL' });
    };
    const err = await ignoredBuildStep('sleep 999', killed, new CollectingLogSink()).catch((e: unknown) => e);
    expect((err as BuildError).message).toContain('was killed by SIGKILL');
  });

  it('a cancel or a timeout is passed on as it is', async () => {
    const cancel = new BuildError('cancelled', 'Build cancelled', { phase: 'clone' });
    await expect(
      ignoredBuildStep('x', async () => Promise.reject(cancel), new CollectingLogSink()),
    ).rejects.toBe(cancel);
    const timeout = new BuildError('timeout', 'timed out', { phase: 'clone' });
    await expect(
      ignoredBuildStep('x', async () => Promise.reject(timeout), new CollectingLogSink()),
    ).rejects.toBe(timeout);
  });
});

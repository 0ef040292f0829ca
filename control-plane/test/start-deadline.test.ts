import { describe, expect, it } from 'vitest';
import { retryOnPortRace, StartProgress, startWithin } from './start-deadline.js';

describe('startWithin', () => {
  it('fails at its deadline naming what was up and what was not, and stops a late start', async () => {
    const progress = new StartProgress(['postgres', 'edge']);
    let late: (value: string) => void = () => {};
    const start = new Promise<string>((resolve) => (late = resolve));
    progress.finished('postgres');
    const stopped: string[] = [];
    const stop = async (value: string) => void stopped.push(value);

    await expect(startWithin('the platform', progress, start, stop, 50)).rejects.toThrow(
      /^the platform did not start within 0\.05 s \(up: postgres at \d+\.\d s; still starting: edge\)$/,
    );
    late('platform');
    await expect.poll(() => stopped).toEqual(['platform']);
  });

  it('passes a start that finishes in time, and its failure, through unchanged', async () => {
    const progress = new StartProgress([]);
    const stop = async () => {};
    await expect(startWithin('x', progress, Promise.resolve(1), stop, 1000)).resolves.toBe(1);
    const failure = new Error('postgres exited during start-up (code 1)');
    await expect(startWithin('x', progress, Promise.reject(failure), stop, 1000)).rejects.toBe(failure);
  });
});

describe('retryOnPortRace', () => {
  it('starts once more when a port was taken, and only then', async () => {
    const taken = new Error('embedded PostgreSQL failed to start', {
      cause: new Error('could not bind IPv4 address "127.0.0.1": Address already in use'),
    });
    let attempts = 0;
    const flaky = async () => {
      attempts += 1;
      if (attempts === 1) throw taken;
      return 'up';
    };
    await expect(retryOnPortRace(flaky)).resolves.toBe('up');
    expect(attempts).toBe(2);

    const broken = new Error('initdb exited with code 1');
    let tries = 0;
    const fails = async () => {
      tries += 1;
      throw broken;
    };
    await expect(retryOnPortRace(fails)).rejects.toBe(broken);
    expect(tries).toBe(1);
  });
});

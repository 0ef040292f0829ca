import { describe, expect, it } from 'vitest';
import { retryWithBackoff } from './retry.js';

const failing = (times: number) => {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    fn: async (attempt: number) => {
      calls += 1;
      if (calls <= times) throw new Error(`failure ${attempt}`);
      return `ok after ${attempt}`;
    },
  };
};

describe('retryWithBackoff', () => {
  it('retries until the call succeeds, doubling the wait up to the cap', async () => {
    const f = failing(4);
    const waits: number[] = [];
    const result = await retryWithBackoff(f.fn, {
      baseDelayMs: 1,
      maxDelayMs: 4,
      onRetry: (_err, _attempt, delay) => waits.push(delay),
    });
    expect(result).toBe('ok after 5');
    expect(waits).toEqual([1, 2, 4, 4]);
  });

  it('gives up after the attempts and throws the last error', async () => {
    const f = failing(10);
    await expect(retryWithBackoff(f.fn, { baseDelayMs: 1, attempts: 3 })).rejects.toThrow('failure 3');
    expect(f.calls).toBe(3);
  });

  it('stops at once when told not to retry', async () => {
    const f = failing(10);
    await expect(
      retryWithBackoff(f.fn, { baseDelayMs: 1, shouldRetry: (_err, attempt) => attempt < 2 }),
    ).rejects.toThrow('failure 2');
    expect(f.calls).toBe(2);
  });

  it('starts no retry once the give-up time has passed', async () => {
    const f = failing(10);
    await expect(retryWithBackoff(f.fn, { baseDelayMs: 1, giveUpAfterMs: 0 })).rejects.toThrow('failure 1');
    expect(f.calls).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { mapLimit } from './concurrency.js';

describe('mapLimit', () => {
  it('keeps at most `limit` in flight and the results in order', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight -= 1;
      return n * 2;
    });
    expect(out).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(most).toBe(3);
  });

  it('starts no new item once one has failed', async () => {
    const started: number[] = [];
    await expect(
      mapLimit([1, 2, 3, 4, 5, 6], 2, async (n) => {
        started.push(n);
        await new Promise((r) => setTimeout(r, 1));
        if (n === 1) throw new Error('first fails');
        return n;
      }),
    ).rejects.toThrow('first fails');
    await new Promise((r) => setTimeout(r, 20));
    expect(started.length).toBeLessThan(6);
  });
});

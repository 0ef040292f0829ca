import pLimit from 'p-limit';

/** Runs `fn` over `items` with at most `limit` in flight; once one fails, no new one starts. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const slot = pLimit(Math.max(1, limit));
  try {
    return await Promise.all(items.map((item, i) => slot(() => fn(item, i))));
  } finally {
    slot.clearQueue();
  }
}

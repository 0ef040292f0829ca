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

/** Retries `fn` with exponential backoff; `signal` stops retrying at once. */
export async function withRetries<T>(
  fn: (attempt: number) => Promise<T>,
  opts: { attempts: number; baseDelayMs: number; signal?: AbortSignal },
): Promise<T> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= opts.attempts; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      lastError = err;
      if (opts.signal?.aborted || attempt === opts.attempts) break;
      await new Promise((r) => setTimeout(r, opts.baseDelayMs * 2 ** (attempt - 1)));
    }
  }
  throw lastError;
}

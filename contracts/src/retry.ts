/** How `retryWithBackoff` waits and when it gives up. */
export interface BackoffOptions {
  /** The wait before the first retry; each later wait doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs?: number;
  /** Attempts in all, the first included (default: no limit). */
  attempts?: number;
  /** No retry starts once this long has passed since the first attempt (default: no limit). */
  giveUpAfterMs?: number;
  /** Asked after each failure: false ends the retrying at once (shutdown, cancel, a fatal error). */
  shouldRetry?: (err: unknown, attempt: number) => boolean;
  /** Told of each failure that will be retried, before the wait. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * The one retry loop of the platform (the build worker's publishes and uploads, the control
 * plane's log inserts): runs `fn` until it resolves, waiting with exponential backoff between
 * attempts. When it gives up, it throws the last error `fn` threw.
 */
export async function retryWithBackoff<T>(
  fn: (attempt: number) => Promise<T>,
  opts: BackoffOptions,
): Promise<T> {
  const giveUpAt = Date.now() + (opts.giveUpAfterMs ?? Number.POSITIVE_INFINITY);
  const attempts = opts.attempts ?? Number.POSITIVE_INFINITY;
  let delay = opts.baseDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const retry = attempt < attempts && Date.now() < giveUpAt && (opts.shouldRetry?.(err, attempt) ?? true);
      if (!retry) throw err;
      opts.onRetry?.(err, attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, opts.maxDelayMs ?? Number.POSITIVE_INFINITY);
    }
  }
}

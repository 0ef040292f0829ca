import { PresignedRequestError } from '@deploysphere/build-worker/presigned-http';

/** The watchdog fails an upload silent for 30 s (HEARTBEAT_TIMEOUT_MS): beat well within. */
export const HEARTBEAT_MS = 10_000;

/** Each PUT is tried 4 times; a refusal (4xx but throttling) is not retried. */
export const putRetry = {
  attempts: 4,
  baseDelayMs: 250,
  shouldRetry: (err: unknown) =>
    !(err instanceof PresignedRequestError) || err.status === 0 || err.status === 429 || err.status >= 500,
};

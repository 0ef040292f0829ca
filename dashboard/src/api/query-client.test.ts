import { describe, expect, it } from 'vitest';
import { ApiError } from './client.js';
import { shouldRetry } from './query-client.js';

describe('query retries', () => {
  it('retries a dropped connection or a 5xx twice, and nothing a retry cannot fix', () => {
    expect(shouldRetry(0, new ApiError(0, 'network', 'offline'))).toBe(true);
    expect(shouldRetry(1, new ApiError(503, 'unavailable', 'busy'))).toBe(true);
    expect(shouldRetry(2, new ApiError(503, 'unavailable', 'busy'))).toBe(false);
    expect(shouldRetry(0, new ApiError(404, 'not_found', 'Project web not found'))).toBe(false);
    expect(shouldRetry(0, new ApiError(401, 'unauthorized', 'Sign in'))).toBe(false);
    expect(shouldRetry(0, new ApiError(200, 'bad_response', 'Unexpected response'))).toBe(false);
  });
});

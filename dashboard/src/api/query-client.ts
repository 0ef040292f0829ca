import { QueryClient } from '@tanstack/react-query';
import { ApiError } from './client.js';

/**
 * Retries only what a retry could fix: a dropped connection or a 5xx. A 4xx (not found, signed
 * out, invalid input) or a response that failed its schema would say the same thing again.
 */
export function shouldRetry(failures: number, error: Error): boolean {
  if (
    error instanceof ApiError &&
    ((error.status >= 400 && error.status < 500) || error.code === 'bad_response')
  ) {
    return false;
  }
  return failures < 2;
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A project's tabs read the project its layout has just loaded: no second GET for that.
        staleTime: 2_000,
        retry: shouldRetry,
      },
      // A repeated POST could start a second deployment.
      mutations: { retry: false },
    },
  });
}

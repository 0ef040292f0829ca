import { ApiError } from '../api/client.js';

/** The API's own message for a failed call; `fallback` for anything that is not an API answer. */
export function errorMessage(error: unknown, fallback: string): string {
  return error instanceof ApiError ? error.message : fallback;
}

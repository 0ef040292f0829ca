import { ErrorBodySchema } from '@deploysphere/contracts';
import type { z } from 'zod';

/** A failed API call, carrying the server's own message so views can show what it said. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let unauthorized: () => void = () => {};

/**
 * Called when the API answers 401: the session cookie expired or the admin token was rotated.
 * Returns a function that removes the handler.
 */
export function onUnauthorized(handler: () => void): () => void {
  unauthorized = handler;
  return () => {
    if (unauthorized === handler) unauthorized = () => {};
  };
}

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** The session routes answer 401 for a wrong token, which is not "signed out". */
  ignoreUnauthorized?: boolean;
}

/**
 * One call to `/api/v1`. The session cookie rides along (same origin), so no token is ever held
 * in page memory. Responses are parsed with the contract's schema, so a drifted server fails
 * loudly here rather than as an undefined deep inside a view.
 */
export async function request<S extends z.ZodType>(
  method: string,
  path: string,
  schema: S | undefined,
  options: RequestOptions = {},
): Promise<z.output<S>> {
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Could not reach the control plane. Check your connection and retry.');
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const parsed = ErrorBodySchema.safeParse(body);
    const error = parsed.success
      ? new ApiError(res.status, parsed.data.error.code, parsed.data.error.message, parsed.data.error.field)
      : new ApiError(res.status, 'http_error', `The control plane answered ${res.status} ${res.statusText}`);
    if (res.status === 401 && !options.ignoreUnauthorized) unauthorized();
    throw error;
  }
  if (!schema) return undefined as z.output<S>;
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new ApiError(res.status, 'bad_response', `Unexpected response from ${method} ${path}`);
  }
  return parsed.data;
}

import { AppError, ConfigError, errorBody } from '@deploysphere/contracts';
import type { Context } from 'hono';
import { CACHE_NONE } from '../site/cache-control.js';
import { platformPage } from './platform-pages.js';

/**
 * The one place errors become responses. AppError carries its status; anything else is a bug or
 * a configuration problem, logged in full here and answered with a generic 500: details never
 * reach a visitor. Browsers get a page, everything else the platform's JSON error body.
 */
export function handleError(err: Error, c: Context): Response {
  const appError =
    err instanceof AppError
      ? err
      : AppError.internal(
          err instanceof ConfigError ? 'Edge configuration is invalid' : 'Unexpected error',
          err,
        );
  if (!appError.expose) {
    console.error('edge request failed', {
      url: c.req.url,
      code: appError.code,
      message: appError.message,
      cause: describe(appError.cause ?? err),
    });
  }
  const body = errorBody(appError);
  if (/\btext\/html\b/i.test(c.req.header('accept') ?? '')) {
    return platformPage(appError.status, appError.code, body.error.message);
  }
  return new Response(JSON.stringify(body), {
    status: appError.status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': CACHE_NONE },
  });
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.stack ?? `${cause.name}: ${cause.message}`;
  try {
    return JSON.stringify(cause);
  } catch {
    return String(cause);
  }
}

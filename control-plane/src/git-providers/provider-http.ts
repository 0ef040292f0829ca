import { retryWithBackoff } from '@deploysphere/contracts';

/** Where a provider's REST API is and the token it is called with. */
export interface ApiTarget {
  /** The API's base, e.g. https://api.github.com or https://gitlab.example/api/v4. */
  apiUrl: string;
  token: string;
  /** Per request; a provider that hangs must not hold a notice forever. */
  timeoutMs?: number;
}

/**
 * A provider API call that failed. Its message names the method, the path and the status, never
 * a header: the token travels only in a header, so no error or log line can carry it.
 */
export class ProviderApiError extends Error {
  constructor(
    readonly provider: string,
    readonly status: number | null,
    readonly method: string,
    readonly path: string,
    detail?: string,
  ) {
    super(`${provider} ${method} ${path}: ${status === null ? (detail ?? 'no answer') : `HTTP ${status}`}`);
    this.name = 'ProviderApiError';
  }

  /** Worth another try: no answer, rate limited, or the provider's own failure. */
  get transient(): boolean {
    return this.status === null || this.status === 429 || this.status >= 500;
  }
}

/** A path segment as the API expects it: `owner/name` stays, anything else is escaped. */
export const segment = (value: string | number) => encodeURIComponent(String(value));
export const repoPath = (repo: string) => repo.split('/').map(segment).join('/');

/**
 * One JSON request to a provider's API, retried with backoff on transient failures. The token
 * goes in the header the provider names (`authorization` or GitLab's `private-token`), never in
 * the URL. Answers the parsed body, or undefined for a 404 when `notFoundOk`.
 */
export async function providerRequest<T>(
  provider: string,
  target: ApiTarget,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT',
  path: string,
  opts: { auth: Record<string, string>; body?: unknown; notFoundOk?: boolean },
): Promise<T | undefined> {
  const url = `${target.apiUrl.replace(/\/+$/, '')}${path}`;
  return retryWithBackoff(
    async () => {
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          redirect: 'error',
          signal: AbortSignal.timeout(target.timeoutMs ?? 10_000),
          headers: {
            accept: 'application/json',
            'user-agent': 'DeploySphere',
            ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...opts.auth,
          },
          ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        });
      } catch (err) {
        throw new ProviderApiError(provider, null, method, path, (err as Error).name);
      }
      if (res.status === 404 && opts.notFoundOk) {
        await res.body?.cancel();
        return undefined;
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new ProviderApiError(provider, res.status, method, path);
      }
      const text = await res.text();
      return (text ? JSON.parse(text) : undefined) as T | undefined;
    },
    {
      baseDelayMs: 200,
      maxDelayMs: 2_000,
      attempts: 3,
      shouldRetry: (err) => err instanceof ProviderApiError && err.transient,
    },
  );
}

import { CLI_EXIT_CODES, ErrorBodySchema, retryWithBackoff } from '@deploysphere/contracts';
import type { z } from 'zod';
import { CliError } from './errors.js';

/** A request the control plane answered with an error status. */
function httpError(status: number, text: string, what: string): CliError {
  const parsed = (() => {
    try {
      return ErrorBodySchema.safeParse(JSON.parse(text));
    } catch {
      return undefined;
    }
  })();
  const e = parsed?.success ? parsed.data.error : undefined;
  const message = e?.message ?? `${what} answered HTTP ${status}`;
  if (status === 401)
    return new CliError('unauthorized', `The API token was refused: ${message}`, CLI_EXIT_CODES.auth, text);
  if (status === 403) return new CliError(e?.code ?? 'forbidden', message, CLI_EXIT_CODES.auth, text);
  if (status === 404) return new CliError(e?.code ?? 'not_found', message, CLI_EXIT_CODES.notFound, text);
  if (status >= 400 && status < 500)
    return new CliError(e?.code ?? 'refused', message, CLI_EXIT_CODES.failure, text);
  return new CliError(
    e?.code ?? 'server_error',
    `The control plane failed: ${message} (HTTP ${status})`,
    CLI_EXIT_CODES.failure,
    text,
  );
}

class Retryable extends Error {}

/**
 * The control plane's `/api/v1`, with the token in the Authorization header only. Network
 * errors and 502/503/504 are retried a few times; every body is parsed with its contract.
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly debug: (line: string) => void = () => undefined,
  ) {}

  async request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.output<S>> {
    const url = `${this.baseUrl}/api/v1${path}`;
    const text = await retryWithBackoff(
      async () => {
        let res: Response;
        let started = 0;
        try {
          this.debug(`${method} ${url}`);
          started = performance.now();
          res = await fetch(url, {
            method,
            headers: {
              authorization: `Bearer ${this.token}`,
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
        } catch (err) {
          const cause = (err as { cause?: { code?: string; message?: string } }).cause;
          const message = `${cause?.code ?? ''} ${cause?.message ?? (err as Error).message}`.trim();
          // A POST is retried only when it never reached the server (it may not be idempotent).
          const unsent = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(cause?.code ?? '');
          if (method === 'GET' || unsent) throw new Retryable(message);
          throw CliError.network(`The connection to ${this.baseUrl} failed: ${message}`, err);
        }
        const out = await res.text();
        this.debug(`→ ${res.status} (${out.length} bytes, ${Math.round(performance.now() - started)} ms)`);
        if ([502, 503, 504].includes(res.status)) throw new Retryable(`HTTP ${res.status}`);
        if (!res.ok) throw httpError(res.status, out, `${method} ${path}`);
        return out;
      },
      { attempts: 3, baseDelayMs: 300, shouldRetry: (err) => err instanceof Retryable },
    ).catch((err: unknown) => {
      if (err instanceof Retryable) {
        throw CliError.network(`Cannot reach the control plane at ${this.baseUrl}: ${err.message}`, err);
      }
      throw err;
    });
    const parsed = schema.safeParse(text === '' ? undefined : JSON.parse(text));
    if (!parsed.success) {
      throw new CliError(
        'bad_response',
        `${method} ${path} answered a shape this CLI does not know (is the control plane a different version?)`,
        CLI_EXIT_CODES.failure,
        parsed.error,
      );
    }
    return parsed.data;
  }

  get<S extends z.ZodType>(path: string, schema: S) {
    return this.request('GET', path, schema);
  }

  post<S extends z.ZodType>(path: string, schema: S, body: unknown = {}) {
    return this.request('POST', path, schema, body);
  }

  /** The websocket URL of a path (ws:// or wss://). */
  wsUrl(path: string): string {
    return `${this.baseUrl.replace(/^http/, 'ws')}/api/v1${path}`;
  }

  get authorization(): string {
    return `Bearer ${this.token}`;
  }
}

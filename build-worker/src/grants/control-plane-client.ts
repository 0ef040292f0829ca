import {
  BootstrapResponseSchema,
  BUILD_SESSION_PATHS,
  CacheRestoreResponseSchema,
  CacheSaveResponseSchema,
  retryWithBackoff,
  UploadGrantsResponseSchema,
  type BootstrapResponse,
  type CacheRestoreResponse,
  type CacheSaveRequest,
  type CacheSaveResponse,
  type UploadBlob,
  type UploadGrantsResponse,
} from '@deploysphere/contracts';
import type { z } from 'zod';
import type { BuildGrants } from './build-grants.js';

/** A refusal by the control plane (4xx): retrying does not help. */
export class ControlPlaneRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ControlPlaneRefusal';
  }
}

const retryOptions = (signal?: AbortSignal) => ({
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 4000,
  shouldRetry: (err: unknown) => !(err instanceof ControlPlaneRefusal) && !signal?.aborted,
});

/**
 * One JSON POST to the control plane, retried on network errors and 5xx. The token goes in the
 * Authorization header only; neither it nor a response body is ever put in an error message.
 */
async function post<S extends z.ZodType>(
  baseUrl: string,
  path: string,
  token: string,
  body: unknown,
  schema: S,
  signal?: AbortSignal,
): Promise<z.output<S>> {
  const url = new URL(path, baseUrl).toString();
  return retryWithBackoff(async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
    const text = await res.text();
    if (!res.ok) {
      let code = 'unknown';
      let message = `HTTP ${res.status}`;
      try {
        const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        code = e?.code ?? code;
        message = e?.message ?? message;
      } catch {
        // not JSON
      }
      const err = new ControlPlaneRefusal(res.status, code, `${path}: ${message} (${res.status} ${code})`);
      if (res.status >= 500) throw new Error(err.message);
      throw err;
    }
    return schema.parse(JSON.parse(text));
  }, retryOptions(signal));
}

/** Exchanges the one-time bootstrap token for the spec, the NATS user and the build token. */
export function exchangeBootstrapToken(controlPlaneUrl: string, token: string): Promise<BootstrapResponse> {
  return post(controlPlaneUrl, BUILD_SESSION_PATHS.bootstrap, token, undefined, BootstrapResponseSchema);
}

/** The build's grants from the control plane, with its build token. */
export class ControlPlaneGrants implements BuildGrants {
  constructor(
    private readonly controlPlaneUrl: string,
    private readonly deploymentId: string,
    private readonly buildToken: string,
    private readonly signal?: AbortSignal,
  ) {}

  uploadGrants(blobs: UploadBlob[]): Promise<UploadGrantsResponse> {
    return post(
      this.controlPlaneUrl,
      BUILD_SESSION_PATHS.uploadGrants(this.deploymentId),
      this.buildToken,
      { blobs },
      UploadGrantsResponseSchema,
      this.signal,
    );
  }

  cacheRestore(key: string): Promise<CacheRestoreResponse> {
    return post(
      this.controlPlaneUrl,
      BUILD_SESSION_PATHS.cacheRestore(this.deploymentId),
      this.buildToken,
      { key },
      CacheRestoreResponseSchema,
      this.signal,
    );
  }

  cacheSave(req: CacheSaveRequest): Promise<CacheSaveResponse> {
    return post(
      this.controlPlaneUrl,
      BUILD_SESSION_PATHS.cacheSave(this.deploymentId),
      this.buildToken,
      req,
      CacheSaveResponseSchema,
      this.signal,
    );
  }
}

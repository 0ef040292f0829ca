import { AwsClient } from 'aws4fetch';
import type { EdgeRegion } from '@deploysphere/contracts';

export type FetchLike = (request: Request) => Promise<Response>;

export type OriginFailure = 'network' | 'timeout' | 'status' | 'not_found' | 'corrupt';

export type OriginAttempt =
  { ok: true; response: Response } | { ok: false; reason: OriginFailure; status?: number };

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Reads one object from one region's bucket with a GET by key (path-style, so s3rver and any
 * S3-compatible endpoint work), SigV4-signed when credentials are configured. Failures come back
 * as values, not exceptions: the caller decides to fail over, and nothing here reaches a visitor.
 */
export class S3Origin {
  private readonly signers = new Map<string, AwsClient>();

  constructor(
    private readonly options: {
      credentials: S3Credentials | undefined;
      /** Time allowed until response headers arrive. */
      timeoutMs: number;
      fetch?: FetchLike;
    },
  ) {}

  async get(region: EdgeRegion, key: string): Promise<OriginAttempt> {
    const url = objectUrl(region, key);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    let response: Response;
    try {
      const request = await this.sign(region, new Request(url, { method: 'GET', signal: controller.signal }));
      response = await (this.options.fetch ?? fetch)(request);
    } catch {
      return { ok: false, reason: controller.signal.aborted ? 'timeout' : 'network' };
    } finally {
      // The timeout covers time to first byte only: a large body may take longer to stream.
      clearTimeout(timer);
    }
    if (response.ok) return { ok: true, response };
    // Free the connection; the error body is never shown to anyone.
    await response.body?.cancel().catch(() => undefined);
    return { ok: false, reason: response.status === 404 ? 'not_found' : 'status', status: response.status };
  }

  private async sign(region: EdgeRegion, request: Request): Promise<Request> {
    const credentials = this.options.credentials;
    if (!credentials) return request;
    let signer = this.signers.get(region.id);
    if (!signer) {
      // retries: 0: failover to another region beats retrying a sick one.
      signer = new AwsClient({ ...credentials, service: 's3', region: region.s3Region, retries: 0 });
      this.signers.set(region.id, signer);
    }
    return signer.sign(request);
  }
}

export function objectUrl(region: EdgeRegion, key: string): string {
  const base = region.endpoint.replace(/\/+$/, '');
  const path = key.split('/').map(encodeURIComponent).join('/');
  return `${base}/${encodeURIComponent(region.bucket)}/${path}`;
}

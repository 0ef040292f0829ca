import { AppError, routeKey, RouteRecordSchema, type RouteRecord } from '@deploysphere/contracts';
import type { RouteStore } from './route-store.js';

export interface CloudflareKvOptions {
  accountId: string;
  namespaceId: string;
  apiToken: string;
  /** Overridable so tests can point it at a local stand-in of the REST API. */
  apiBase?: string;
  fetch?: typeof fetch;
}

/** Workers KV through Cloudflare's REST API, for a control plane running outside Cloudflare. */
export class CloudflareKvRouteStore implements RouteStore {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: CloudflareKvOptions) {
    this.base = `${opts.apiBase ?? 'https://api.cloudflare.com/client/v4'}/accounts/${encodeURIComponent(
      opts.accountId,
    )}/storage/kv/namespaces/${encodeURIComponent(opts.namespaceId)}/values/`;
    this.fetch = opts.fetch ?? fetch;
  }

  async put(hostname: string, record: RouteRecord): Promise<void> {
    await this.call('PUT', hostname, JSON.stringify(RouteRecordSchema.parse(record)));
  }

  async get(hostname: string): Promise<RouteRecord | null> {
    const res = await this.call('GET', hostname);
    if (res === null) return null;
    return RouteRecordSchema.parse(JSON.parse(res));
  }

  async delete(hostname: string): Promise<void> {
    await this.call('DELETE', hostname);
  }

  private async call(method: string, hostname: string, body?: string): Promise<string | null> {
    const res = await this.fetch(this.base + encodeURIComponent(routeKey(hostname)), {
      method,
      headers: {
        authorization: `Bearer ${this.opts.apiToken}`,
        ...(body ? { 'content-type': 'text/plain' } : {}),
      },
      ...(body ? { body } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 404 && method !== 'PUT') {
      await res.body?.cancel();
      return null;
    }
    const text = await res.text();
    if (!res.ok) {
      throw AppError.unavailable(
        `Cloudflare KV ${method} failed with ${res.status}`,
        new Error(text.slice(0, 500)),
      );
    }
    return text;
  }
}

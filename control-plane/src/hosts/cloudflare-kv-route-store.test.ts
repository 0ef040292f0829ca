import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouteRecord } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudflareKvRouteStore } from './cloudflare-kv-route-store.js';

// Cloudflare's REST API cannot be reached from here, so it is stood in for at the HTTP boundary:
// a local server that speaks the KV values endpoint and checks what the store sends.

const ACCOUNT = 'acc123';
const NAMESPACE = 'ns456';
const TOKEN = 'cf-api-token';
const values = new Map<string, string>();
const seen: { method: string; path: string; auth: string | undefined }[] = [];
let server: Server;
let base: string;
let failNext = false;

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => resolve(data));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    seen.push({ method: req.method!, path: req.url!, auth: req.headers.authorization });
    const prefix = `/client/v4/accounts/${ACCOUNT}/storage/kv/namespaces/${NAMESPACE}/values/`;
    if (!req.url!.startsWith(prefix) || req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(403).end(JSON.stringify({ success: false }));
      return;
    }
    if (failNext) {
      failNext = false;
      res.writeHead(500).end(JSON.stringify({ success: false, errors: [{ message: 'internal' }] }));
      return;
    }
    const key = decodeURIComponent(req.url!.slice(prefix.length));
    if (req.method === 'PUT') {
      values.set(key, await body(req));
      res.writeHead(200).end(JSON.stringify({ success: true }));
    } else if (req.method === 'GET') {
      const v = values.get(key);
      if (v === undefined) res.writeHead(404).end(JSON.stringify({ success: false }));
      else res.writeHead(200).end(v);
    } else if (req.method === 'DELETE') {
      values.delete(key);
      res.writeHead(200).end(JSON.stringify({ success: true }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const record: RouteRecord = {
  v: 1,
  kind: 'production',
  deploymentId: 'abcdefghijklmnopqrstuvwx',
  projectSlug: 'shop',
  regions: ['eu-west-1'],
  updatedAt: '2026-11-22T00:00:00.000Z',
};

describe('CloudflareKvRouteStore', () => {
  const store = () =>
    new CloudflareKvRouteStore({
      accountId: ACCOUNT,
      namespaceId: NAMESPACE,
      apiToken: TOKEN,
      apiBase: base,
    });

  it('writes, reads and deletes records under the host key, with the API token', async () => {
    await store().put('Shop.Example.App', record);
    expect(values.get('host:shop.example.app')).toBe(JSON.stringify(record));
    expect(seen.at(-1)).toMatchObject({ method: 'PUT', auth: `Bearer ${TOKEN}` });
    expect(await store().get('shop.example.app')).toEqual(record);
    await store().delete('shop.example.app');
    expect(await store().get('shop.example.app')).toBeNull();
  });

  it('refuses to write a record that breaks the contract', async () => {
    await expect(store().put('x.example.app', { ...record, regions: [] })).rejects.toThrow();
    expect(values.has('host:x.example.app')).toBe(false);
  });

  it('turns an API failure into a 503 that hides the API response', async () => {
    failNext = true;
    const err = await store()
      .put('y.example.app', record)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: 'unavailable', expose: false });
  });
});

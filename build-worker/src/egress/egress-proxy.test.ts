import { lookup } from 'node:dns/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.js';
import { CollectingLogSink } from '../log-sink.js';
import { createEgressPolicy } from './egress-policy.js';
import { startEgressProxy, type EgressProxy, type Resolver } from './egress-proxy.js';

// The proxy is driven over its Unix socket exactly as the sandbox's forwarder drives it. The one
// public destination is the npm registry, which every machine of the project reaches anyway.
const REGISTRY = 'registry.npmjs.org';

let dir: string;
let registryAddress: string;
let proxy: EgressProxy | undefined;
let logs: CollectingLogSink;

beforeAll(async () => {
  dir = await tempDir('bw-egress-');
  registryAddress = (await lookup(REGISTRY)).address;
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function start(resolve?: Resolver): Promise<EgressProxy> {
  logs = new CollectingLogSink();
  proxy = await startEgressProxy({
    socketPath: join(dir, 'egress.sock'),
    policy: createEgressPolicy(),
    logs,
    ...(resolve ? { resolve } : {}),
  });
  return proxy;
}

/** Sends one CONNECT and returns the proxy's status line and body; the tunnel is then dropped. */
function connectVia(p: EgressProxy, authority: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: p.socketPath, method: 'CONNECT', path: authority });
    // Node reports every answer to a CONNECT as 'connect'; a refusal's body follows on the socket.
    req.on('connect', (res, socket, head) => {
      const status = res.statusCode ?? 0;
      if (status === 200) {
        socket.destroy();
        resolve({ status, body: '' });
        return;
      }
      let body = head.toString();
      socket.on('data', (c: Buffer) => (body += c.toString()));
      socket.on('end', () => resolve({ status, body }));
      socket.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function getVia(p: EgressProxy, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: p.socketPath, method: 'GET', path: url });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the egress proxy', () => {
  it('tunnels to a public host on 443 and logs the host once', async () => {
    const p = await start();
    expect((await connectVia(p, `${REGISTRY}:443`)).status).toBe(200);
    expect((await connectVia(p, `${REGISTRY}:443`)).status).toBe(200);
    expect(p.stats.tunnels).toBe(2);
    expect(logs.lines.filter((l) => l.line.startsWith(`Egress: ${REGISTRY}:443`))).toHaveLength(1);
  });

  it.each([
    ['127.0.0.1:443', 403, 'loopback'],
    ['[::1]:443', 403, 'loopback'],
    ['169.254.169.254:80', 403, 'link-local'],
    ['10.0.0.1:443', 403, 'private'],
    ['localhost:443', 403, 'resolves to 127.0.0.1'],
    [`${REGISTRY}:22`, 403, 'port 22 is closed'],
    [`${REGISTRY}:4222`, 403, 'port 4222 is closed'],
    ['no-port', 400, 'is not host:port'],
    ['bad_host!:443', 400, 'not a valid host name'],
  ])('refuses CONNECT %s with %i', async (authority, status, reason) => {
    const p = await start();
    const res = await connectVia(p, authority);
    expect(res.status).toBe(status);
    expect(res.body).toContain(reason);
    if (status === 403)
      expect(logs.text()).toContain(`Egress refused: ${authority.replace(/^\[|\](?=:)/g, '')}`);
    expect(p.stats.tunnels).toBe(0);
  });

  it('refuses a name when any of its addresses is denied', async () => {
    const p = await start(async () => [registryAddress, '127.0.0.1']);
    const res = await connectVia(p, 'mixed.example:443');
    expect(res.status).toBe(403);
    expect(res.body).toContain('resolves to 127.0.0.1, a loopback address');
  });

  it('connects to the address it checked, so a rebinding resolver cannot redirect it', async () => {
    const answers = [[registryAddress], ['127.0.0.1']];
    let calls = 0;
    const p = await start(async () => answers[Math.min(calls++, 1)]!);
    expect((await connectVia(p, 'rebind.example:443')).status).toBe(200);
    // One resolution per connection: the second answer (loopback) was never asked for or used.
    expect(calls).toBe(1);
    expect(logs.text()).toContain(`Egress: rebind.example:443 (${registryAddress})`);
    expect((await connectVia(p, 'rebind.example:443')).status).toBe(403);
  });

  it('refuses plain-HTTP proxy requests to denied hosts and non-proxy requests', async () => {
    const p = await start();
    const loop = await getVia(p, 'http://127.0.0.1:80/');
    expect(loop.status).toBe(403);
    expect(loop.body).toContain('loopback');
    const meta = await getVia(p, 'http://169.254.169.254/latest/meta-data/');
    expect(meta.status).toBe(403);
    expect((await getVia(p, '/not-a-proxy-request')).status).toBe(400);
  });

  it('logs refusals one by one up to a cap, then counts them', async () => {
    const p = await start();
    for (let i = 0; i < 25; i += 1) await connectVia(p, `127.0.0.${i + 1}:443`);
    await p.close();
    proxy = undefined;
    const refusedLines = logs.lines.filter((l) => l.line.startsWith('Egress refused: '));
    expect(refusedLines).toHaveLength(20);
    expect(logs.text()).toContain('Egress refused 25 connection(s) in all');
  });
});

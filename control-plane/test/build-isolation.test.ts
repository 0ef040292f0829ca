import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { DeploymentView } from '@deploysphere/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitRepo } from './git-repo.js';
import { startTestPlatform, type TestPlatform } from './harness.js';
import { createTestNetworkNamespace, type TestNetworkNamespace } from './network-namespace.js';

// The escape test: a hostile build on the real local stack tries to reach the platform and the
// private network, through every way out it has. Everything must fail, while `npm install` of a
// real registry package in the same build succeeds and the deployment goes ready.

/** The build's attack, written into the repository; it reports what it reached as report.json. */
const ESCAPE_SCRIPT = String.raw`
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { createRequire } from 'node:module';

const attempt = (host, port, timeoutMs = 3000) =>
  new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => { socket.destroy(); resolve('timeout'); }, timeoutMs);
    socket.on('connect', () => {
      clearTimeout(timer);
      // Scanning the ephemeral range, a socket can meet itself (TCP simultaneous open): no listener.
      const self = socket.localPort === socket.remotePort && socket.localAddress === socket.remoteAddress;
      socket.destroy();
      resolve(self ? 'self-connect' : 'connected');
    });
    socket.on('error', (err) => { clearTimeout(timer); resolve(err.code ?? err.message); });
  });
const proxy = new URL(process.env.HTTPS_PROXY);
const viaProxy = (authority) =>
  new Promise((resolve) => {
    const req = request({ host: proxy.hostname, port: Number(proxy.port), method: 'CONNECT', path: authority });
    req.on('connect', (res, socket) => { socket.destroy(); resolve(res.statusCode); });
    req.on('error', (err) => resolve(err.code ?? err.message));
    req.end();
  });

const report = { openLoopbackPorts: [], direct: {}, proxied: {}, localhost: {} };
// Every loopback port, on both loopback addresses. The forwarder to the egress proxy is the one
// listener a build has, and it is its own.
for (const host of ['127.0.0.1', '::1']) {
  for (let first = 1; first <= 65535; first += 512) {
    const ports = [];
    for (let p = first; p < Math.min(first + 512, 65536); p += 1) ports.push(p);
    await Promise.all(ports.map(async (p) => {
      if (p === Number(proxy.port) && host === '127.0.0.1') return;
      if ((await attempt(host, p)) === 'connected') report.openLoopbackPorts.push(host + ':' + p);
    }));
  }
}
for (const t of JSON.parse(process.env.ESCAPE_TARGETS)) {
  const authority = t.host.includes(':') ? '[' + t.host + ']:' + t.port : t.host + ':' + t.port;
  report.direct[t.name] = await attempt(t.host, t.port);
  report.proxied[t.name] = await viaProxy(authority);
}
// A name that points at 127.0.0.1: resolved inside the sandbox, and handed to the proxy.
const resolved = await lookup('localhost').catch((err) => ({ address: err.code }));
report.localhost.resolvedTo = resolved.address;
report.localhost.direct = await attempt('localhost', Number(process.env.CONTROL_PLANE_PORT));
report.localhost.proxied = await viaProxy('localhost:443');
report.leftPad = createRequire(import.meta.url)('left-pad')('7', 3, '0');

mkdirSync('dist', { recursive: true });
writeFileSync('dist/report.json', JSON.stringify(report));
writeFileSync('dist/index.html', '<h1>escape report</h1>');
console.log('escape report: ' + JSON.stringify(report));
`;

let t: TestPlatform;
let namespace: TestNetworkNamespace;
const isRoot = process.getuid?.() === 0;

beforeAll(async () => {
  t = await startTestPlatform({ BUILD_TIMEOUT_MS: '240000' });
  if (isRoot) {
    // A private and a link-local address, each a /30 of its own that nothing else routes.
    namespace = await createTestNetworkNamespace(
      [
        ['10.213.57.1', '10.213.57.2'],
        ['169.254.213.1', '169.254.213.2'],
      ],
      443,
    );
  }
});
afterAll(async () => {
  await namespace?.remove();
  await t?.stop();
});

interface Target {
  name: string;
  host: string;
  port: number;
}

/** Every service of the stack this test runs on, each answering the host right now. */
async function platformTargets(): Promise<Target[]> {
  const { config, controlPlaneUrl, edgeUrl } = t.platform;
  const fromUrl = (name: string, url: string): Target => {
    const u = new URL(url);
    return { name, host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
  };
  const targets = [
    fromUrl('postgres', config.databaseUrl),
    fromUrl('nats', config.natsUrl),
    fromUrl('control-plane', controlPlaneUrl),
    fromUrl('edge', edgeUrl),
    ...config.storage.map((s) => fromUrl(`s3-${s.region}`, s.endpoint!)),
  ];
  for (const target of targets) {
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: target.host, port: target.port });
      socket.on('connect', () => socket.destroy());
      socket.on('close', () => resolve());
      socket.on('error', (err) => reject(new Error(`${target.name} is not listening: ${err.message}`)));
    });
  }
  return targets;
}

/** The machine's own non-loopback addresses: a build must not reach the host through them either. */
function ownAddresses(): Target[] {
  return Object.values(networkInterfaces())
    .flatMap((infos) => infos ?? [])
    .filter((info) => !info.internal && !info.address.startsWith('fe80'))
    .map((info) => ({ name: `own-${info.address}`, host: info.address, port: 443 }));
}

describe('a hostile build', () => {
  it('reaches nothing of the platform or the private network, and still installs from the registry', async () => {
    expect(isRoot, 'the escape test makes network namespaces, which needs root').toBe(true);
    const stack = await platformTargets();
    const privateNetwork = namespace.targets.map((x) => ({
      name: `netns-${x.address}`,
      host: x.address,
      port: x.port,
    }));
    const targets = [...stack, ...privateNetwork, ...ownAddresses()];

    const repo = await GitRepo.create({
      'package.json': JSON.stringify({ name: 'escape', private: true, type: 'module' }),
      'escape.mjs': ESCAPE_SCRIPT,
    });
    const created = await t.api('POST', '/projects', {
      slug: 'escape',
      repoUrl: repo.url,
      installCommand: 'npm install --no-audit --no-fund left-pad@1.3.0',
      buildCommand: 'node escape.mjs',
      regions: ['us-east-1'],
      env: {
        ESCAPE_TARGETS: JSON.stringify(targets),
        CONTROL_PLANE_PORT: String(new URL(t.platform.controlPlaneUrl).port),
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const started = await t.api<DeploymentView>('POST', '/projects/escape/deployments', {});
    expect(started.status).toBe(202);
    const done = await t.waitFor(started.body.id, ['ready', 'error']);
    expect(done.error).toBeNull();
    expect(done.status).toBe('ready');

    const served = await t.visit('escape.localhost', '/report.json');
    expect(served.status).toBe(200);
    const report = JSON.parse(served.body) as {
      openLoopbackPorts: string[];
      direct: Record<string, string>;
      proxied: Record<string, number | string>;
      localhost: { resolvedTo: string; direct: string; proxied: number | string };
      leftPad: string;
    };

    expect(report.leftPad).toBe('007');
    expect(report.openLoopbackPorts).toEqual([]);
    for (const target of targets) {
      // Loopback is the sandbox's own, where nothing listens; anything else has no route at all.
      expect(report.direct[target.name], target.name).toMatch(/^(ECONNREFUSED|ENETUNREACH|EHOSTUNREACH)$/);
      expect(report.proxied[target.name], target.name).toBe(403);
    }
    expect(report.localhost).toEqual({ resolvedTo: '127.0.0.1', direct: 'ECONNREFUSED', proxied: 403 });
  });
});

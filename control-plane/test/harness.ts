import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeploymentView } from '@deploysphere/contracts';
import { createDb, type Db } from '@deploysphere/db';
import { loadLocalPlatformConfig } from '../src/local/config.js';
import { startPlatform, type PlatformHandle } from '../src/local/platform.js';
import { retryOnPortRace, StartProgress, startWithin } from './start-deadline.js';

export interface TestPlatform {
  platform: PlatformHandle;
  dataDir: string;
  db: Db;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** GET from the edge as a visitor of `host` (Node's fetch cannot set Host). */
  visit(
    host: string,
    path?: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>;
  waitFor(id: string, statuses: DeploymentView['status'][], timeoutMs?: number): Promise<DeploymentView>;
  stop(): Promise<void>;
}

export interface EdgeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET from the edge as a visitor of `host`; Node's fetch cannot set the Host header. */
export function visitEdge(
  edgeUrl: string,
  host: string,
  path = '/',
  headers: Record<string, string> = {},
): Promise<EdgeResponse> {
  const edge = new URL(edgeUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: edge.hostname, port: edge.port, path, headers: { host: `${host}:${edge.port}`, ...headers } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * The platform exactly as `npm start` brings it up, in a temporary DATA_DIR on free ports, for
 * integration tests. stop() ends everything and removes the directory.
 *
 * Prometheus and its two exporters start only for tests that ask (`prometheus: true`): the others
 * do not read it, and on a loaded 2-core machine three more processes per platform, each
 * scraping, are what turns a slow start into a timeout. The others get PROMETHEUS_URL set to a
 * closed port, which `npm start` takes as an existing Prometheus and only prints.
 */
export function startTestPlatform(
  env: Record<string, string> = {},
  opts: { prometheus?: boolean } = {},
): Promise<TestPlatform> {
  const prometheus: Record<string, string> =
    opts.prometheus || env.PROMETHEUS_URL ? {} : { PROMETHEUS_URL: 'http://127.0.0.1:9/' };
  return retryOnPortRace(() => start({ ...prometheus, ...env }));
}

async function start(env: Record<string, string>): Promise<TestPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ds-platform-'));
  const config = loadLocalPlatformConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    EDGE_PORT: '0',
    LOG_LEVEL: 'warn',
    // `BUILD_RUNNER=ecs npm test` runs every platform test's builds through the ECS SDK and the
    // local ECS endpoints; a test that sets it itself wins.
    ...(process.env.BUILD_RUNNER ? { BUILD_RUNNER: process.env.BUILD_RUNNER } : {}),
    ...env,
  });
  const progress = new StartProgress([
    'system packages',
    'postgres',
    'nats',
    ...config.REGIONS.map((r) => `s3 ${r.id}`),
    'migrations',
    'edge',
    'control plane',
    'prometheus',
  ]);
  const platform = await startWithin(
    'the platform',
    progress,
    startPlatform(config, progress.finished),
    (late) => late.stop(),
  );
  progress.warnIfSlow('the platform');
  const db = createDb(platform.config.databaseUrl, { maxConnections: 2 });

  const api = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${platform.controlPlaneUrl}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${platform.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };

  const visit = (host: string, path = '/', headers: Record<string, string> = {}) =>
    visitEdge(platform.edgeUrl, host, path, headers);

  const waitFor = async (id: string, statuses: DeploymentView['status'][], timeoutMs = 240_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await api<DeploymentView>('GET', `/deployments/${id}`);
      if (statuses.includes(body.status)) return body;
      if (Date.now() > deadline)
        throw new Error(`deployment ${id} is still ${body.status}: ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  return {
    platform,
    dataDir,
    db,
    api,
    visit,
    waitFor,
    async stop() {
      await db.$disconnect();
      await platform.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

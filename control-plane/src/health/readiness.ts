import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Db } from '@deploysphere/db';
import type { NatsConnection } from '@nats-io/transport-node';
import type { RegionStorage } from '../infra/storage.js';

export interface CheckResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export type ReadinessReport = { ok: boolean; checks: Record<string, CheckResult> };

const CHECK_TIMEOUT_MS = 2000;

/**
 * Probes every dependency the platform needs to serve and deploy. Each probe is bounded, so a
 * hung dependency turns into a failed check instead of a hung /readyz.
 */
export class ReadinessService {
  constructor(
    private readonly deps: {
      db: Db;
      nats: NatsConnection;
      clickhouse: ClickHouseClient;
      storage: RegionStorage;
      edgeUrl?: string | undefined;
      rootDomain: string;
    },
  ) {}

  async check(): Promise<ReadinessReport> {
    const probes: Record<string, () => Promise<unknown>> = {
      database: () => this.deps.db.$queryRaw`SELECT 1`,
      nats: () => this.deps.nats.flush(),
      clickhouse: async () => {
        const r = await this.deps.clickhouse.ping();
        if (!r.success) throw r.error;
      },
    };
    for (const target of this.deps.storage.targets) {
      probes[`storage:${target.region}`] = () =>
        this.deps.storage.client(target.region)!.send(new HeadBucketCommand({ Bucket: target.bucket }));
    }
    if (this.deps.edgeUrl) {
      // The edge answers /healthz on the bare root domain only; every other host is a site.
      const url = new URL('/healthz', this.deps.edgeUrl);
      const host = `${this.deps.rootDomain}${url.port ? `:${url.port}` : ''}`;
      probes.edge = async () => {
        const status = await getStatus(url, host);
        if (status !== 200) throw new Error(`edge answered ${status}`);
      };
    }
    const entries = await Promise.all(
      Object.entries(probes).map(async ([name, probe]) => [name, await timed(probe)] as const),
    );
    const checks = Object.fromEntries(entries);
    return { ok: entries.every(([, r]) => r.ok), checks };
  }
}

/** fetch() drops a custom Host header, so the edge probe uses node:http directly. */
function getStatus(url: URL, host: string): Promise<number> {
  const get = url.protocol === 'https:' ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { host }, timeout: CHECK_TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

async function timed(probe: () => Promise<unknown>): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: describe(err) };
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

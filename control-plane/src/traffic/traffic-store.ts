import type { ClickHouseClient } from '@clickhouse/client';
import {
  deploymentHostPrefix,
  productionHost,
  TRAFFIC_WINDOWS,
  type EdgeMetricsBatch,
  type TrafficView,
  type TrafficWindow,
} from '@deploysphere/contracts';

interface TrafficRow {
  minute: string;
  host: string;
  region: string;
  status_class: string;
  requests: number;
  bytes: number;
}

/**
 * Per-minute edge traffic in ClickHouse (`edge_traffic`), written from the edge's metric batches
 * and read back per project for the dashboard's chart. Prometheus keeps the same counts for
 * alerting; this copy is what a project's own history needs (a label per host would be too many
 * series for Prometheus to keep for 30 days).
 */
export class TrafficStore {
  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly rootDomain: string,
  ) {}

  async record(batch: EdgeMetricsBatch): Promise<void> {
    const minute = new Date(batch.sentAt);
    minute.setUTCSeconds(0, 0);
    const stamp = minute.toISOString().slice(0, 19).replace('T', ' ');
    const rows = new Map<string, TrafficRow>();
    for (const s of batch.series) {
      const key = `${s.host}\n${s.region}\n${s.statusClass}`;
      const row = rows.get(key) ?? {
        minute: stamp,
        host: s.host,
        region: s.region,
        status_class: s.statusClass,
        requests: 0,
        bytes: 0,
      };
      row.requests += s.requests;
      row.bytes += s.bytes;
      rows.set(key, row);
    }
    if (rows.size === 0) return;
    await this.clickhouse.insert({
      table: 'edge_traffic',
      values: [...rows.values()],
      format: 'JSONEachRow',
    });
  }

  /** Requests, 4xx and 5xx per region and bucket, over every hostname of the project. */
  async forProject(
    project: { slug: string; domains: { hostname: string }[] },
    window: TrafficWindow,
    now = new Date(),
  ): Promise<TrafficView> {
    const { seconds: spanSeconds, stepSeconds } = TRAFFIC_WINDOWS[window];
    const from = new Date(
      Math.floor((now.getTime() / 1000 - spanSeconds) / stepSeconds) * stepSeconds * 1000,
    );
    const result = await this.clickhouse.query({
      query: `
        SELECT toStartOfInterval(minute, toIntervalSecond({step:UInt32})) AS t, region,
               sum(requests) AS total_requests,
               sumIf(requests, status_class = '4xx') AS client_errors,
               sumIf(requests, status_class = '5xx') AS server_errors,
               sum(bytes) AS total_bytes
        FROM edge_traffic
        WHERE minute >= {from:DateTime('UTC')}
          AND (host = {production:String} OR startsWith(host, {deploymentPrefix:String}) OR has({domains:Array(String)}, host))
        GROUP BY t, region
        ORDER BY t, region`,
      query_params: {
        step: stepSeconds,
        from: Math.floor(from.getTime() / 1000),
        production: productionHost(project.slug, this.rootDomain),
        deploymentPrefix: deploymentHostPrefix(project.slug),
        domains: project.domains.map((d) => d.hostname),
      },
      format: 'JSONEachRow',
    });
    const rows = await result.json<{
      t: string;
      region: string;
      total_requests: string;
      client_errors: string;
      server_errors: string;
      total_bytes: string;
    }>();
    const points = rows.map((r) => ({
      t: `${r.t.replace(' ', 'T')}.000Z`,
      region: r.region,
      requests: Number(r.total_requests),
      clientErrors: Number(r.client_errors),
      serverErrors: Number(r.server_errors),
      bytes: Number(r.total_bytes),
    }));
    return {
      window,
      stepSeconds,
      from: from.toISOString(),
      to: now.toISOString(),
      regions: [...new Set(points.map((p) => p.region))].sort(),
      points,
    };
  }
}

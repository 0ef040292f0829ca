import type { ClickHouseClient } from '@clickhouse/client';

export interface ClickHouseMigrationContext {
  logRetentionDays: number;
}

export interface ClickHouseMigration {
  version: number;
  name: string;
  statements: (ctx: ClickHouseMigrationContext) => string[];
}

/**
 * The ClickHouse schema, in order. Applied versions are recorded in `schema_migrations`; every
 * statement is also idempotent on its own (IF NOT EXISTS), so a crash between a statement and
 * its record only repeats harmless work.
 */
export const CLICKHOUSE_MIGRATIONS: ClickHouseMigration[] = [
  {
    version: 1,
    name: 'build_logs',
    statements: ({ logRetentionDays }) => [
      // ReplacingMergeTree on (deployment_id, seq) is the backstop: a line that was ever stored
      // twice collapses at merge. The ingester's insert_deduplication_token (with the window below)
      // drops a retried insert, and its seq check drops redelivered lines, so reads see none.
      `CREATE TABLE IF NOT EXISTS build_logs
       (
         deployment_id LowCardinality(String),
         seq UInt64,
         ts DateTime64(3, 'UTC'),
         stream Enum8('stdout' = 1, 'stderr' = 2, 'system' = 3),
         message String CODEC(ZSTD(3)),
         INDEX ts_minmax ts TYPE minmax GRANULARITY 1
       )
       ENGINE = ReplacingMergeTree
       PARTITION BY toYYYYMM(ts)
       ORDER BY (deployment_id, seq)
       TTL toDateTime(ts) + INTERVAL ${retentionDays(logRetentionDays)} DAY DELETE
       SETTINGS non_replicated_deduplication_window = 1000`,
    ],
  },
  {
    version: 2,
    name: 'edge_traffic',
    statements: () => [
      // Per-minute request counts from the edge's metric batches, for the dashboard's traffic
      // chart. SummingMergeTree folds the many batches of a minute into one row per key.
      `CREATE TABLE IF NOT EXISTS edge_traffic
       (
         minute DateTime('UTC'),
         host LowCardinality(String),
         region LowCardinality(String),
         status_class LowCardinality(String),
         requests UInt64,
         bytes UInt64
       )
       ENGINE = SummingMergeTree((requests, bytes))
       PARTITION BY toYYYYMMDD(minute)
       ORDER BY (host, minute, region, status_class)
       TTL minute + INTERVAL 30 DAY DELETE`,
    ],
  },
  {
    version: 3,
    name: 'audit_log',
    statements: () => [
      // Who did what, per team, newest first by (at, id). Kept for two years: an audit trail
      // outlives the build logs it refers to.
      `CREATE TABLE IF NOT EXISTS audit_log
       (
         team_id LowCardinality(String),
         at DateTime64(3, 'UTC'),
         id String,
         action LowCardinality(String),
         actor_kind LowCardinality(String),
         actor_user_id String,
         actor_label String,
         actor_token_id String,
         target String,
         ip String,
         details String CODEC(ZSTD(3))
       )
       ENGINE = MergeTree
       PARTITION BY toYYYYMM(at)
       ORDER BY (team_id, at, id)
       TTL toDateTime(at) + INTERVAL 730 DAY DELETE`,
    ],
  },
];

function retentionDays(days: number): number {
  if (!Number.isInteger(days) || days < 1) throw new Error(`logRetentionDays must be a positive integer`);
  return days;
}

/**
 * Applies pending migrations, then keeps the log TTL in step with LOG_RETENTION_DAYS (a changed
 * setting becomes `ALTER TABLE … MODIFY TTL`, run only when it differs). Idempotent; run at start.
 */
export async function migrateClickHouse(
  clickhouse: ClickHouseClient,
  opts: ClickHouseMigrationContext,
  migrations: ClickHouseMigration[] = CLICKHOUSE_MIGRATIONS,
): Promise<{ applied: number[] }> {
  await clickhouse.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations
            (version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
            ENGINE = MergeTree ORDER BY version`,
  });
  const done = new Set(
    (
      await (
        await clickhouse.query({ query: 'SELECT version FROM schema_migrations', format: 'JSONEachRow' })
      ).json<{ version: number | string }>()
    ).map((r) => Number(r.version)),
  );
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(migration.version)) continue;
    for (const query of migration.statements(opts)) await clickhouse.command({ query });
    await clickhouse.insert({
      table: 'schema_migrations',
      values: [{ version: migration.version, name: migration.name }],
      format: 'JSONEachRow',
    });
    applied.push(migration.version);
  }
  await syncLogRetention(clickhouse, opts.logRetentionDays);
  return { applied };
}

async function syncLogRetention(clickhouse: ClickHouseClient, days: number): Promise<void> {
  const rows = await (
    await clickhouse.query({
      query: `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'build_logs'`,
      format: 'JSONEachRow',
    })
  ).json<{ engine_full: string }>();
  // ClickHouse shows the TTL normalized: `toIntervalDay(30)` (older servers: `INTERVAL 30 DAY`).
  const match = /toIntervalDay\((\d+)\)|INTERVAL (\d+) DAY/i.exec(rows[0]?.engine_full ?? '');
  const current = match?.[1] ?? match?.[2];
  if (current === undefined || Number(current) === days) return;
  await clickhouse.command({
    query: `ALTER TABLE build_logs MODIFY TTL toDateTime(ts) + INTERVAL ${retentionDays(days)} DAY DELETE`,
  });
}

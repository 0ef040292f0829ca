import type { ClickHouseClient } from '@clickhouse/client';
import { Counter, type Registry } from 'prom-client';

/**
 * Counts every insert into ClickHouse, its rows and its failures, by table. chDB has no metrics
 * endpoint and a ClickHouse server's own would not say which of our writers failed, so the client
 * itself is instrumented: every writer (log ingester, edge traffic) inserts through this one
 * client, and its insert is wrapped once, here. Table names are the platform's own, so bounded.
 */
export function instrumentClickHouseInserts(clickhouse: ClickHouseClient, registry: Registry): void {
  const inserts = new Counter({
    name: 'deploysphere_clickhouse_inserts_total',
    help: 'Inserts into ClickHouse that succeeded, by table',
    labelNames: ['table'] as const,
    registers: [registry],
  });
  const rows = new Counter({
    name: 'deploysphere_clickhouse_insert_rows_total',
    help: 'Rows inserted into ClickHouse, by table',
    labelNames: ['table'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'deploysphere_clickhouse_insert_failures_total',
    help: 'Inserts into ClickHouse that failed, by table (the writer retries or drops, and logs)',
    labelNames: ['table'] as const,
    registers: [registry],
  });
  const insert = clickhouse.insert.bind(clickhouse);
  clickhouse.insert = (async (params: Parameters<ClickHouseClient['insert']>[0]) => {
    const table = params.table;
    inserts.inc({ table }, 0); // the series exists from the first try, so a failure rate has a base
    failures.inc({ table }, 0);
    try {
      const result = await insert(params);
      inserts.inc({ table });
      if (Array.isArray(params.values)) rows.inc({ table }, params.values.length);
      return result;
    } catch (err) {
      failures.inc({ table });
      throw err;
    }
  }) as ClickHouseClient['insert'];
}

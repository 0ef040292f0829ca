import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse } from '../infra/clickhouse.js';
import { instrumentClickHouseInserts } from './clickhouse-metrics.js';

let dir: string;
let clickhouse: ClickHouseClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-ch-metrics-'));
  clickhouse = createClickHouse({ chdbPath: join(dir, 'chdb') });
  await clickhouse.command({ query: 'CREATE TABLE kept (n UInt32) ENGINE = MergeTree ORDER BY n' });
});
afterAll(async () => {
  await clickhouse?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ClickHouse insert metrics', () => {
  it('counts inserts, rows and failures per table, through real chDB', async () => {
    const registry = new Registry();
    instrumentClickHouseInserts(clickhouse, registry);
    await clickhouse.insert({ table: 'kept', values: [{ n: 1 }, { n: 2 }, { n: 3 }], format: 'JSONEachRow' });
    await expect(
      clickhouse.insert({ table: 'missing', values: [{ n: 1 }], format: 'JSONEachRow' }),
    ).rejects.toThrow();

    const text = await registry.metrics();
    expect(text).toContain('deploysphere_clickhouse_inserts_total{table="kept"} 1');
    expect(text).toContain('deploysphere_clickhouse_insert_rows_total{table="kept"} 3');
    expect(text).toContain('deploysphere_clickhouse_insert_failures_total{table="kept"} 0');
    expect(text).toContain('deploysphere_clickhouse_insert_failures_total{table="missing"} 1');
    const rows = await clickhouse.query({ query: 'SELECT count() AS c FROM kept', format: 'JSONEachRow' });
    expect(await rows.json()).toEqual([{ c: '3' }]);
  });
});

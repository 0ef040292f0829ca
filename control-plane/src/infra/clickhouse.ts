import { mkdirSync } from 'node:fs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';

/**
 * A ClickHouse client against a server (CLICKHOUSE_URL) or embedded chDB. Both go through
 * @clickhouse/client, so every query takes the same code path; chDB holds one data directory
 * per process.
 */
type ChdbHook = NonNullable<Parameters<typeof createClient>[0]>['connection'];

export function createClickHouse(target: { url: string } | { chdbPath: string }): ClickHouseClient {
  // chDB returns UInt64 as JSON numbers while a server quotes them; quoting always keeps both alike.
  const clickhouse_settings = { output_format_json_quote_64bit_integers: 1 } as const;
  if ('url' in target) return createClient({ url: target.url, clickhouse_settings });
  mkdirSync(target.chdbPath, { recursive: true });
  // chdb types its connection against its own copy of @clickhouse/client-common; the runtime
  // interface is the same one @clickhouse/client's `connection` hook takes.
  const connection = createChdbConnection({ path: target.chdbPath }) as unknown as ChdbHook;
  return createClient({ connection, clickhouse_settings });
}

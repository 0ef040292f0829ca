import type { ClickHouseClient } from '@clickhouse/client';
import type { LogEntry, LogLine, LogStreamName } from '@deploysphere/contracts';

interface StoredRow {
  deployment_id: string;
  seq: string | number;
  ts_ms: string | number;
  stream: LogStreamName;
  message: string;
}

const SELECT_COLUMNS = 'deployment_id, seq, toUnixTimestamp64Milli(ts) AS ts_ms, stream, message';

/** ClickHouse's basic DateTime64 text form: no `T`, no `Z` (the column is UTC). */
const toClickHouseTime = (iso: string) => iso.slice(0, 23).replace('T', ' ');

function toLine(row: StoredRow): LogLine {
  return {
    deploymentId: row.deployment_id,
    seq: Number(row.seq),
    ts: new Date(Number(row.ts_ms)).toISOString(),
    stream: row.stream,
    message: row.message,
  };
}

/**
 * Every read and write of `build_logs`. Reads use `LIMIT 1 BY`: the ingester never stores a line
 * twice, but should a duplicate ever slip in before ReplacingMergeTree merges it away, no reader
 * sees it.
 */
export class LogStore {
  constructor(private readonly clickhouse: ClickHouseClient) {}

  /**
   * One INSERT, deduplicated by `token`: ClickHouse drops a retry of the same insert (same token)
   * within the table's non_replicated_deduplication_window.
   */
  async insert(lines: LogLine[], token: string): Promise<void> {
    if (lines.length === 0) return;
    await this.clickhouse.insert({
      table: 'build_logs',
      format: 'JSONEachRow',
      values: lines.map((l) => ({
        deployment_id: l.deploymentId,
        seq: l.seq,
        ts: toClickHouseTime(l.ts),
        stream: l.stream,
        message: l.message,
      })),
      clickhouse_settings: { insert_deduplication_token: token, insert_deduplicate: 1 },
    });
  }

  /** Which of the given seq ranges are already stored, as `<deploymentId>:<seq>` keys. */
  async existing(ranges: Map<string, { min: number; max: number }>): Promise<Set<string>> {
    if (ranges.size === 0) return new Set();
    const params: Record<string, unknown> = {};
    const where = [...ranges].map(([id, { min, max }], i) => {
      params[`d${i}`] = id;
      params[`a${i}`] = min;
      params[`b${i}`] = max;
      return `(deployment_id = {d${i}:String} AND seq BETWEEN {a${i}:UInt64} AND {b${i}:UInt64})`;
    });
    const rows = await (
      await this.clickhouse.query({
        query: `SELECT deployment_id, seq FROM build_logs WHERE ${where.join(' OR ')}`,
        query_params: params,
        format: 'JSONEachRow',
      })
    ).json<{ deployment_id: string; seq: string | number }>();
    return new Set(rows.map((r) => `${r.deployment_id}:${Number(r.seq)}`));
  }

  /** A deployment's lines with seq > after, in seq order. */
  async deploymentLines(
    deploymentId: string,
    opts: { after: number; limit: number; q?: string | undefined; stream?: LogStreamName | undefined },
  ): Promise<LogEntry[]> {
    const filters = ['deployment_id = {id:String}', 'seq > {after:UInt64}'];
    if (opts.q !== undefined) filters.push('positionCaseInsensitiveUTF8(message, {q:String}) > 0');
    if (opts.stream !== undefined) filters.push('stream = {stream:String}');
    const rows = await (
      await this.clickhouse.query({
        query: `SELECT ${SELECT_COLUMNS} FROM build_logs WHERE ${filters.join(' AND ')}
                ORDER BY seq LIMIT 1 BY seq LIMIT {limit:UInt32}`,
        query_params: {
          id: deploymentId,
          after: opts.after,
          q: opts.q,
          stream: opts.stream,
          limit: opts.limit,
        },
        format: 'JSONEachRow',
      })
    ).json<StoredRow>();
    return rows.map((r) => {
      const { deploymentId: _id, ...entry } = toLine(r);
      return entry;
    });
  }

  /** Newest matches first, across deployments (optionally only the given ones). */
  async search(opts: {
    q: string;
    deploymentIds?: string[] | undefined;
    since?: Date | undefined;
    limit: number;
  }): Promise<LogLine[]> {
    const filters = ['positionCaseInsensitiveUTF8(message, {q:String}) > 0'];
    if (opts.deploymentIds !== undefined) filters.push('deployment_id IN {ids:Array(String)}');
    if (opts.since !== undefined) filters.push(`ts >= {since:DateTime64(3, 'UTC')}`);
    const rows = await (
      await this.clickhouse.query({
        query: `SELECT ${SELECT_COLUMNS} FROM build_logs WHERE ${filters.join(' AND ')}
                ORDER BY ts DESC, deployment_id, seq DESC LIMIT 1 BY deployment_id, seq LIMIT {limit:UInt32}`,
        query_params: {
          q: opts.q,
          ids: opts.deploymentIds,
          since: opts.since ? toClickHouseTime(opts.since.toISOString()) : undefined,
          limit: opts.limit,
        },
        format: 'JSONEachRow',
      })
    ).json<StoredRow>();
    return rows.map(toLine);
  }

  /** The highest stored seq of a deployment (0 when none). */
  async maxSeq(deploymentId: string): Promise<number> {
    const rows = await (
      await this.clickhouse.query({
        query: 'SELECT max(seq) AS m FROM build_logs WHERE deployment_id = {id:String}',
        query_params: { id: deploymentId },
        format: 'JSONEachRow',
      })
    ).json<{ m: string | number }>();
    return Number(rows[0]?.m ?? 0);
  }
}

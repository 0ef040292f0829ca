import type { ClickHouseClient } from '@clickhouse/client';
import type { AuditAction, AuditEntry, AuditPage, AuditQuery } from '@deploysphere/contracts';

interface AuditRow {
  team_id: string;
  at: string;
  id: string;
  action: string;
  actor_kind: string;
  actor_user_id: string;
  actor_label: string;
  actor_token_id: string;
  target: string;
  ip: string;
  details: string;
}

export interface AuditRecord {
  teamIds: string[];
  action: AuditAction;
  actor: AuditEntry['actor'];
  target: string;
  ip: string;
  details: Record<string, unknown>;
}

/** The `audit_log` table in ClickHouse: one row per team an action concerns. */
export class AuditStore {
  constructor(private readonly clickhouse: ClickHouseClient) {}

  async insert(id: string, at: Date, record: AuditRecord): Promise<void> {
    const stamp = at.toISOString().replace('T', ' ').replace('Z', '');
    const values: AuditRow[] = record.teamIds.map((teamId) => ({
      team_id: teamId,
      at: stamp,
      id,
      action: record.action,
      actor_kind: record.actor.kind,
      actor_user_id: record.actor.userId ?? '',
      actor_label: record.actor.label,
      actor_token_id: record.actor.tokenId ?? '',
      target: record.target,
      ip: record.ip,
      details: JSON.stringify(record.details),
    }));
    if (values.length === 0) return;
    // The id makes a retried insert of the same entry a no-op (MergeTree's insert deduplication).
    await this.clickhouse.insert({
      table: 'audit_log',
      values,
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: id },
    });
  }

  /** A team's entries, newest first, `query.limit` at a time. */
  async page(teamId: string, query: AuditQuery): Promise<AuditPage> {
    const where = ['team_id = {team:String}'];
    const params: Record<string, unknown> = { team: teamId, limit: query.limit + 1 };
    if (query.before) {
      const [at, id] = query.before.split('~') as [string, string];
      where.push("(at, id) < (parseDateTime64BestEffort({beforeAt:String}, 3, 'UTC'), {beforeId:String})");
      params.beforeAt = at;
      params.beforeId = id;
    }
    if (query.action) {
      where.push('action = {action:String}');
      params.action = query.action;
    }
    if (query.actor) {
      where.push('actor_user_id = {actor:String}');
      params.actor = query.actor;
    }
    const rows = await (
      await this.clickhouse.query({
        query: `SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY at DESC, id DESC LIMIT {limit:UInt32}`,
        query_params: params,
        format: 'JSONEachRow',
      })
    ).json<AuditRow>();
    const entries = rows.slice(0, query.limit).map(toEntry);
    const last = entries.at(-1);
    return { entries, nextBefore: rows.length > query.limit && last ? `${last.at}~${last.id}` : null };
  }
}

function toEntry(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    at: new Date(`${r.at.replace(' ', 'T')}Z`).toISOString(),
    action: r.action as AuditAction,
    actor: {
      kind: r.actor_kind as AuditEntry['actor']['kind'],
      userId: r.actor_user_id || null,
      label: r.actor_label,
      tokenId: r.actor_token_id || null,
    },
    target: r.target,
    ip: r.ip,
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}

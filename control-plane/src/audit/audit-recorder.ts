import { retryWithBackoff, type AuditEntry } from '@deploysphere/contracts';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '@deploysphere/db';
import { newId } from '../ids.js';
import type { Principal } from '../authz/principal.js';
import { AUDITED_ROUTES } from './audit-actions.js';
import type { AuditRecord, AuditStore } from './audit-store.js';

/**
 * Writes audit entries. The write happens after the response, off the request's path; a
 * ClickHouse outage is retried, and an entry that still cannot be written is logged whole at
 * error level, so it is never silently lost.
 */
export class AuditRecorder {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly deps: { store: AuditStore; db: Db; log: FastifyBaseLogger; now?: () => Date },
  ) {}

  async actorOf(p: Principal): Promise<AuditEntry['actor']> {
    const user = p.userId ? await this.deps.db.user.findUnique({ where: { id: p.userId } }) : null;
    return { kind: p.kind, userId: p.userId, label: user?.email ?? 'admin token', tokenId: p.tokenId };
  }

  record(record: AuditRecord): void {
    const id = newId();
    const at = this.deps.now?.() ?? new Date();
    const write = retryWithBackoff(() => this.deps.store.insert(id, at, record), {
      attempts: 5,
      baseDelayMs: 200,
      maxDelayMs: 5_000,
    })
      .catch((err: unknown) =>
        this.deps.log.error({ err, audit: { id, at, ...record } }, 'audit entry not written'),
      )
      .finally(() => this.pending.delete(write));
    this.pending.add(write);
  }

  /** Waits for the writes in flight (at shutdown, and for tests that read right after acting). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** Records every successful audited request in this encapsulated context. */
  hook(app: FastifyInstance): void {
    app.addHook('onSend', async (request, reply, payload) => {
      if (reply.statusCode >= 400) return payload;
      const describe = AUDITED_ROUTES[`${request.method} ${request.routeOptions.url ?? ''}`];
      if (!describe) return payload;
      const actions = describe({
        params: (request.params ?? {}) as Record<string, string | undefined>,
        body: (request.body ?? {}) as Record<string, unknown>,
        result: parsed(payload),
      });
      if (actions.length === 0) return payload;
      const actor = await this.actorOf(request.principal);
      for (const { teamId, ...a } of actions) {
        const teamIds = teamId ? [teamId] : teamsOf(request);
        if (teamIds.length > 0) this.record({ teamIds, ...a, actor, ip: request.ip });
      }
      return payload;
    });
  }
}

/** A resource's team; for the caller's own things (tokens), every team the caller acts in. */
function teamsOf(request: FastifyRequest): string[] {
  if (request.resourceTeamId) return [request.resourceTeamId];
  const p = request.principal;
  if (p.teamId) return [p.teamId];
  return [...p.roles.keys()];
}

function parsed(payload: unknown): Record<string, unknown> {
  if (typeof payload !== 'string' || !payload.startsWith('{')) return {};
  try {
    return JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return {};
  }
}

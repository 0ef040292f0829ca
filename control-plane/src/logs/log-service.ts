import type { ClickHouseClient } from '@clickhouse/client';
import {
  AppError,
  type DeploymentLogsQuery,
  type DeploymentLogsResponse,
  type DeploymentStatusEvent,
  type LogSearchQuery,
  type LogSearchResponse,
} from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import { visibleProjectsWhere, type ProjectVisibility } from '../authz/principal.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { Gauge, type Registry } from 'prom-client';
import { LogHub, type LogHubOptions, type ViewerSocket } from './log-hub.js';
import { LogStore } from './log-store.js';

export interface LogServiceDeps {
  db: Db;
  nats: NatsConnection;
  clickhouse: ClickHouseClient;
  metrics: Registry;
  hub?: LogHubOptions;
}

/** The hubs whose viewers each registry's gauge counts: one gauge per registry, however many hubs. */
const hubsByRegistry = new WeakMap<Registry, Set<LogHub>>();

function countViewers(registry: Registry, hub: LogHub): () => void {
  let hubs = hubsByRegistry.get(registry);
  if (!hubs) {
    const counted = new Set<LogHub>();
    hubs = counted;
    hubsByRegistry.set(registry, counted);
    new Gauge({
      name: 'build_logs_stream_viewers',
      help: 'Websocket clients following build logs',
      registers: [registry],
      collect() {
        let n = 0;
        for (const h of counted) n += h.viewerCount;
        this.set(n);
      },
    });
  }
  hubs.add(hub);
  return () => hubs.delete(hub);
}

/**
 * Build logs as the API serves them: pages of one deployment's lines, search across
 * deployments, and the live stream. Lines come from ClickHouse; which deployment and project
 * they belong to comes from PostgreSQL.
 */
export class LogService {
  private readonly store: LogStore;
  private readonly hub: LogHub;
  private readonly uncount: () => void;

  constructor(private readonly deps: LogServiceDeps) {
    this.store = new LogStore(deps.clickhouse);
    this.hub = new LogHub(deps.nats, this.store, deps.hub);
    this.uncount = countViewers(deps.metrics, this.hub);
  }

  /** Where a live view starts: the deployment's status now. 404 for an unknown deployment. */
  async currentStatus(deploymentId: string): Promise<DeploymentStatusEvent> {
    const d = await this.deps.db.deployment.findUnique({ where: { id: deploymentId } });
    if (!d) throw AppError.notFound(`Deployment ${deploymentId}`, 'id');
    return {
      deploymentId: d.id,
      status: d.status,
      phase: d.phase,
      error: d.error,
      at: (d.finishedAt ?? d.startedAt ?? d.createdAt).toISOString(),
    };
  }

  /** Replays the deployment's lines after `after`, then follows it live until it ends. */
  attach(socket: ViewerSocket, from: { after: number; current: DeploymentStatusEvent }): Promise<void> {
    return this.hub.attach(from.current.deploymentId, socket, from);
  }

  /** One page of a deployment's lines, in seq order. */
  async lines(deploymentId: string, query: DeploymentLogsQuery): Promise<DeploymentLogsResponse> {
    const d = await this.deps.db.deployment.findUnique({ where: { id: deploymentId }, select: { id: true } });
    if (!d) throw AppError.notFound(`Deployment ${deploymentId}`, 'id');
    const lines = await this.store.deploymentLines(d.id, query);
    return { lines, nextAfter: lines.at(-1)?.seq ?? query.after };
  }

  /** Newest matches first, across every deployment or one project's. */
  /** Searches the deployments of the projects `visible` admits (all of them, or `query.project`). */
  async search(query: LogSearchQuery, visible: ProjectVisibility): Promise<LogSearchResponse> {
    const projects = await this.deps.db.project.findMany({
      where: visibleProjectsWhere(visible, query.project),
      select: { deployments: { select: { id: true } } },
    });
    if (query.project !== undefined && projects.length === 0) throw AppError.notFound('Project', 'project');
    const deploymentIds = projects.flatMap((p) => p.deployments.map((d) => d.id));
    if (deploymentIds.length === 0) return { lines: [] };
    const found = await this.store.search({
      q: query.q,
      deploymentIds,
      since: query.since ? new Date(query.since) : undefined,
      limit: query.limit,
    });
    const ids = [...new Set(found.map((l) => l.deploymentId))];
    const deployments =
      ids.length === 0
        ? []
        : await this.deps.db.deployment.findMany({
            where: { id: { in: ids } },
            select: { id: true, project: { select: { slug: true } } },
          });
    const slugs = new Map(deployments.map((d) => [d.id, d.project.slug]));
    return { lines: found.map((l) => ({ ...l, projectSlug: slugs.get(l.deploymentId) ?? null })) };
  }

  /** Ends every live view (they are told the server is going away). */
  async close(): Promise<void> {
    this.uncount();
    await this.hub.close();
  }
}

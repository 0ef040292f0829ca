import {
  AppError,
  DeploymentIdSchema,
  DeploymentLogsQuerySchema,
  fromZodError,
  LogSearchQuerySchema,
  LogStreamQuerySchema,
  type DeploymentLogsResponse,
  type DeploymentStatusEvent,
  type LogSearchResponse,
} from '@deploysphere/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Gauge } from 'prom-client';
import type { z } from 'zod';
import type { AppContext } from '../context.js';
import { LogHub, type LogHubOptions } from './log-hub.js';
import { LogStore } from './log-store.js';

const activeHubs = new Set<LogHub>();

export interface LogRoutesOptions {
  ctx: AppContext;
  hub?: LogHubOptions;
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw fromZodError(result.error);
  return result.data;
}

/** The deployment named by `:id`, or 404: a malformed id names no deployment either. */
async function findDeployment(ctx: AppContext, request: FastifyRequest) {
  const id = (request.params as { id?: string }).id;
  if (!DeploymentIdSchema.safeParse(id).success) throw AppError.notFound('Deployment', 'id');
  const deployment = await ctx.db.deployment.findUnique({ where: { id: id! }, include: { project: true } });
  if (!deployment) throw AppError.notFound('Deployment', 'id');
  return deployment;
}

/**
 * Build log routes, registered inside the authenticated `/api/v1` scope:
 * - `GET /deployments/:id/logs/stream` (websocket): replay, then live, then `end`;
 * - `GET /deployments/:id/logs?after=&limit=&q=&stream=` → `{lines, nextAfter}`;
 * - `GET /logs/search?q=&project=&since=&limit=` → `{lines}`, newest first.
 */
export async function logRoutes(app: FastifyInstance, opts: LogRoutesOptions): Promise<void> {
  const { ctx } = opts;
  const store = new LogStore(ctx.clickhouse);
  const hub = new LogHub(ctx.nats, store, opts.hub);
  if (!ctx.metrics.getSingleMetric('build_logs_stream_viewers')) {
    new Gauge({
      name: 'build_logs_stream_viewers',
      help: 'Websocket clients following build logs',
      registers: [ctx.metrics],
      collect() {
        let n = 0;
        for (const h of activeHubs) n += h.viewerCount;
        this.set(n);
      },
    });
  }
  activeHubs.add(hub);
  app.addHook('onClose', async () => {
    activeHubs.delete(hub);
    await hub.close();
  });

  app.get(
    '/deployments/:id/logs/stream',
    {
      websocket: true,
      // Runs before the upgrade, so bad input and unknown deployments get a plain HTTP error.
      preHandler: async (request) => {
        const query = parse(LogStreamQuerySchema, request.query);
        const deployment = await findDeployment(ctx, request);
        const current: DeploymentStatusEvent = {
          deploymentId: deployment.id,
          status: deployment.status,
          phase: deployment.phase,
          error: deployment.error,
          at: (deployment.finishedAt ?? deployment.startedAt ?? deployment.createdAt).toISOString(),
        };
        (request as FastifyRequest & { logStream?: unknown }).logStream = { after: query.after, current };
      },
    },
    (socket, request) => {
      const { after, current } = (
        request as FastifyRequest & { logStream: { after: number; current: DeploymentStatusEvent } }
      ).logStream;
      hub.attach(current.deploymentId, socket, { after, current }).catch((err: unknown) => {
        request.log.error({ err }, 'log stream failed to start');
        socket.close(1011, 'internal error');
      });
    },
  );

  app.get('/deployments/:id/logs', async (request): Promise<DeploymentLogsResponse> => {
    const query = parse(DeploymentLogsQuerySchema, request.query);
    const deployment = await findDeployment(ctx, request);
    const lines = await store.deploymentLines(deployment.id, query);
    return { lines, nextAfter: lines.at(-1)?.seq ?? query.after };
  });

  app.get('/logs/search', async (request): Promise<LogSearchResponse> => {
    const query = parse(LogSearchQuerySchema, request.query);
    let deploymentIds: string[] | undefined;
    if (query.project !== undefined) {
      const project = await ctx.db.project.findUnique({
        where: { slug: query.project },
        include: { deployments: { select: { id: true } } },
      });
      if (!project) throw AppError.notFound('Project', 'project');
      deploymentIds = project.deployments.map((d) => d.id);
      if (deploymentIds.length === 0) return { lines: [] };
    }
    const found = await store.search({
      q: query.q,
      deploymentIds,
      since: query.since ? new Date(query.since) : undefined,
      limit: query.limit,
    });
    const ids = [...new Set(found.map((l) => l.deploymentId))];
    const deployments =
      ids.length === 0
        ? []
        : await ctx.db.deployment.findMany({ where: { id: { in: ids } }, include: { project: true } });
    const slugs = new Map(deployments.map((d) => [d.id, d.project.slug]));
    return { lines: found.map((l) => ({ ...l, projectSlug: slugs.get(l.deploymentId) ?? null })) };
  });
}

import {
  DeploymentLogsQuerySchema,
  DeploymentLogsResponseSchema,
  DeploymentParamsSchema,
  LogSearchQuerySchema,
  LogSearchResponseSchema,
  LogStreamMessageSchema,
  LogStreamQuerySchema,
  type DeploymentStatusEvent,
} from '@deploysphere/contracts';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DOCUMENTED_WEBSOCKET, ERROR_RESPONSES, SECURITY } from '../plugins/openapi.js';
import { visibility } from '../authz/principal.js';

const tags = ['logs'];

/**
 * Build log routes, registered inside the authenticated `/api/v1` scope:
 * - `GET /deployments/:id/logs/stream` (websocket): replay, then live, then `end`;
 * - `GET /deployments/:id/logs?after=&limit=&q=&stream=` → `{lines, nextAfter}`;
 * - `GET /logs/search?q=&project=&since=&limit=` → `{lines}`, newest first.
 */
export const logRoutes: FastifyPluginAsyncZod = async (app) => {
  const logs = app.buildLogs;

  // What the pre-upgrade check found, for the websocket handler that runs after it.
  const streamStart = new WeakMap<FastifyRequest, DeploymentStatusEvent>();

  app.get(
    '/deployments/:id/logs/stream',
    {
      websocket: true,
      config: DOCUMENTED_WEBSOCKET,
      schema: {
        summary:
          "Follow a deployment's build log (websocket): replay after `after`, then live lines and status",
        description:
          'Upgrades to a websocket; each message is one JSON `LogStreamMessage`. Bad input and unknown ' +
          'deployments get a plain HTTP error before the upgrade. See docs/logs.md.',
        tags,
        security: SECURITY.websocket,
        params: DeploymentParamsSchema,
        querystring: LogStreamQuerySchema,
        response: { 101: LogStreamMessageSchema.describe('Each websocket message'), ...ERROR_RESPONSES },
      },
      // Runs before the upgrade, so unknown deployments get a plain HTTP error.
      preHandler: async (request) => {
        streamStart.set(request, await logs.currentStatus(request.params.id));
      },
    },
    (socket, request) => {
      const current = streamStart.get(request);
      if (!current) throw new Error('the log stream started without its pre-upgrade check');
      logs.attach(socket, { after: request.query.after, current }).catch((err: unknown) => {
        request.log.error({ err }, 'log stream failed to start');
        socket.close(1011, 'internal error');
      });
    },
  );

  app.get(
    '/deployments/:id/logs',
    {
      schema: {
        summary: "A page of a deployment's build log, in seq order",
        tags,
        params: DeploymentParamsSchema,
        querystring: DeploymentLogsQuerySchema,
        response: { 200: DeploymentLogsResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => logs.lines(request.params.id, request.query),
  );

  app.get(
    '/logs/search',
    {
      schema: {
        summary: 'Search build logs across deployments, newest first',
        tags,
        querystring: LogSearchQuerySchema,
        response: { 200: LogSearchResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => logs.search(request.query, visibility(request.principal)),
  );
};

import {
  AppError,
  GcRunBodySchema,
  GcRunParamsSchema,
  GcRunViewSchema,
  ProjectParamsSchema,
  ProjectStorageViewSchema,
} from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERROR_RESPONSES } from '../plugins/openapi.js';
import type { GcService } from './gc-service.js';

const tags = ['storage'];

/** Garbage collection's API (docs/retention.md), behind the admin token like all of /api/v1. */
export const gcRoutes: FastifyPluginAsyncZod<{ gc: GcService }> = async (app, { gc }) => {
  app.post(
    '/gc/runs',
    {
      schema: {
        summary:
          "Start a garbage collection now (202 with its id), or 409 with the running one's id; `dryRun` removes nothing",
        tags,
        body: GcRunBodySchema,
        response: {
          202: z.object({ id: z.string(), resumed: z.boolean() }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const started = await gc.start('api', request.body.dryRun);
      if (started.kind === 'busy') {
        throw new AppError(
          409,
          'gc_running',
          `garbage collection ${started.runId} is running; see GET /api/v1/gc/runs/${started.runId}`,
        );
      }
      if (started.kind === 'not-due') throw AppError.internal('an API run is always due');
      return reply.status(202).send({ id: started.runId, resumed: started.kind === 'resumed' });
    },
  );

  app.get(
    '/gc/runs/latest',
    {
      schema: {
        summary: 'The newest garbage collection run and what it removed',
        tags,
        response: { 200: GcRunViewSchema, ...ERROR_RESPONSES },
      },
    },
    async () => gc.latest(),
  );

  app.get(
    '/gc/runs/:id',
    {
      schema: {
        summary: 'One garbage collection run and what it removed',
        tags,
        params: GcRunParamsSchema,
        response: { 200: GcRunViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => gc.get(request.params.id),
  );

  app.get(
    '/projects/:slug/storage',
    {
      schema: {
        summary: "What a project's live deployments and build caches store per region, and its retention",
        tags: ['projects', ...tags],
        params: ProjectParamsSchema,
        response: { 200: ProjectStorageViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => gc.projectStorage(request.params.slug),
  );
};

import {
  BuildCliSourceDeployBodySchema,
  CLI_DEPLOY_PATHS,
  CliSourceDeployCreatedSchema,
  CreateCliSourceDeployBodySchema,
  CliDeployCreatedSchema,
  CliLandedBodySchema,
  CliLandedResultSchema,
  CreateCliDeployBodySchema,
  DeploymentParamsSchema,
  DeploymentViewSchema,
  FinalizeCliDeployBodySchema,
} from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERROR_RESPONSES } from '../plugins/openapi.js';
import type { CliDeployService } from './cli-deploy-service.js';
import type { CliSourceDeployService } from './cli-source-deploy-service.js';

export interface CliDeployRoutesOptions {
  cliDeploys: CliDeployService;
  cliSources: CliSourceDeployService;
}

/** A manifest of 50,000 files is about 8 MB of JSON; the limit leaves room for rules and paths. */
export const CLI_DEPLOY_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

const tags = ['cli-deploys'];

/**
 * Prebuilt deploys (contracts/src/cli-deploy.ts), registered inside the authenticated `/api/v1`
 * scope: the admin token's check runs before the body is read, so no unauthenticated caller gets
 * a 16 MB body parsed.
 */
export const cliDeployRoutes: FastifyPluginAsyncZod<CliDeployRoutesOptions> = async (app, options) => {
  const { cliDeploys, cliSources } = options;

  app.post(
    CLI_DEPLOY_PATHS.source,
    {
      schema: {
        summary:
          "Start a source deploy: the archive's sha256 and size in, the deployment (uploading) and its presigned PUT out",
        tags,
        body: CreateCliSourceDeployBodySchema,
        response: { 201: CliSourceDeployCreatedSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await cliSources.create(request.body, request.targetTeamId ?? undefined)),
  );

  app.post(
    CLI_DEPLOY_PATHS.build(':id'),
    {
      schema: {
        summary: "A source deploy's archive is stored: its build is queued, as a Git deployment's",
        tags,
        params: DeploymentParamsSchema,
        body: BuildCliSourceDeployBodySchema.optional(),
        response: { 200: DeploymentViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => cliSources.build(request.params.id),
  );

  app.post(
    CLI_DEPLOY_PATHS.create,
    {
      bodyLimit: CLI_DEPLOY_BODY_LIMIT_BYTES,
      schema: {
        summary:
          'Start a prebuilt deploy: the manifest in, per region the missing blobs with presigned PUTs out',
        tags,
        body: CreateCliDeployBodySchema,
        response: { 201: CliDeployCreatedSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await cliDeploys.create(request.body, request.targetTeamId ?? undefined)),
  );

  app.post(
    CLI_DEPLOY_PATHS.finalize(':id'),
    {
      schema: {
        summary:
          'Finish a prebuilt deploy: every blob is checked in every region, then it is activated (production) or previewed',
        tags,
        params: DeploymentParamsSchema,
        body: FinalizeCliDeployBodySchema.optional(),
        response: { 200: DeploymentViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => cliDeploys.finalize(request.params.id),
  );

  app.post(
    CLI_DEPLOY_PATHS.landed(':id'),
    {
      schema: {
        summary:
          'Blobs that landed while the rest upload: each is checked in storage now, so finalize checks only the others (also a heartbeat)',
        tags,
        params: DeploymentParamsSchema,
        body: CliLandedBodySchema,
        response: { 200: CliLandedResultSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => cliDeploys.landed(request.params.id, request.body),
  );

  app.post(
    CLI_DEPLOY_PATHS.heartbeat(':id'),
    {
      schema: {
        summary: 'The uploader is alive (a silent upload is failed like a silent build)',
        tags,
        params: DeploymentParamsSchema,
        body: FinalizeCliDeployBodySchema.optional(),
        response: { 204: z.null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await cliDeploys.heartbeat(request.params.id);
      return reply.status(204).send(null);
    },
  );
};

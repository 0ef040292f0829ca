import {
  AddDomainBodySchema,
  CreateDeploymentBodySchema,
  CreateProjectBodySchema,
  DeploymentListQuerySchema,
  DeploymentViewSchema,
  DomainParamsSchema,
  ProjectParamsSchema,
  ProjectsQuerySchema,
  ProjectViewSchema,
  PromoteBodySchema,
  UpdateProjectBodySchema,
} from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { visibility } from '../authz/principal.js';
import { ERROR_RESPONSES } from '../plugins/openapi.js';

const tags = ['projects'];

export const projectRoutes: FastifyPluginAsyncZod = async (app) => {
  const { projects, deployments } = app;

  // `?slug=` answers 200 with [] or [project]: the dashboard's availability check, without a 404.
  app.get(
    '/projects',
    {
      schema: {
        summary: 'Every project, newest first; with `slug`, that one or none',
        tags,
        querystring: ProjectsQuerySchema,
        response: { 200: z.array(ProjectViewSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { slug } = request.query;
      const visible = visibility(request.principal);
      if (slug === undefined) return projects.list(visible);
      // Another team's project is "none" here too: its slug is taken, but that is all anyone learns.
      const project = (await projects.list({ ...visible, slug }))[0];
      return project ? [project] : [];
    },
  );

  app.post(
    '/projects',
    {
      schema: {
        summary: 'Create a project',
        tags,
        body: CreateProjectBodySchema,
        response: { 201: ProjectViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await projects.create(request.body, request.targetTeamId ?? undefined)),
  );

  app.get(
    '/projects/:slug',
    {
      schema: {
        summary: 'One project',
        tags,
        params: ProjectParamsSchema,
        response: { 200: ProjectViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => projects.get(request.params.slug),
  );

  app.patch(
    '/projects/:slug',
    {
      schema: {
        summary: "Change a project's settings (`null` resets; `env: {KEY: null}` removes)",
        tags,
        params: ProjectParamsSchema,
        body: UpdateProjectBodySchema,
        response: { 200: ProjectViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => projects.update(request.params.slug, request.body),
  );

  app.delete(
    '/projects/:slug',
    {
      schema: {
        summary: 'Delete a project; its hostnames stop serving',
        tags,
        params: ProjectParamsSchema,
        response: { 204: z.undefined(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await projects.delete(request.params.slug);
      return reply.status(204).send();
    },
  );

  app.post(
    '/projects/:slug/domains',
    {
      schema: {
        summary: 'Attach a custom domain; it serves production at once when there is a ready deployment',
        tags,
        params: ProjectParamsSchema,
        body: AddDomainBodySchema,
        response: { 201: ProjectViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await projects.addDomain(request.params.slug, request.body.hostname)),
  );

  app.delete(
    '/projects/:slug/domains/:hostname',
    {
      schema: {
        summary: 'Detach a custom domain; it stops serving',
        tags,
        params: DomainParamsSchema,
        response: { 204: z.undefined(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await projects.removeDomain(request.params.slug, request.params.hostname);
      return reply.status(204).send();
    },
  );

  app.post(
    '/projects/:slug/deployments',
    {
      schema: {
        summary: 'Deploy the project (again), optionally from another ref',
        tags,
        params: ProjectParamsSchema,
        // The body may be left out altogether: a redeploy needs nothing.
        body: CreateDeploymentBodySchema.nullish(),
        response: { 202: DeploymentViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      reply.status(202).send(await deployments.create(request.params.slug, request.body ?? {})),
  );

  app.get(
    '/projects/:slug/deployments',
    {
      schema: {
        summary: "The project's deployments, newest first, paged with `before`",
        tags,
        params: ProjectParamsSchema,
        querystring: DeploymentListQuerySchema,
        response: { 200: z.array(DeploymentViewSchema), ...ERROR_RESPONSES },
      },
    },
    async (request) => deployments.listForProject(request.params.slug, request.query),
  );

  app.post(
    '/projects/:slug/promote',
    {
      schema: {
        summary: 'Point production at a ready deployment (instant rollback), with no rebuild',
        tags,
        params: ProjectParamsSchema,
        body: PromoteBodySchema,
        response: { 200: DeploymentViewSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => deployments.promote(request.params.slug, request.body.deploymentId),
  );
};

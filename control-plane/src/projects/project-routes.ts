import {
  AddDomainBodySchema,
  CreateDeploymentBodySchema,
  CreateProjectBodySchema,
  PromoteBodySchema,
  UpdateProjectBodySchema,
} from '@deploysphere/contracts';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DeploymentService } from '../deployments/deployment-service.js';
import type { ProjectService } from './project-service.js';
import { parse, slugParam } from '../plugins/parse.js';

const DomainParams = z.object({ hostname: z.string() });
const ProjectsQuery = z.strictObject({ slug: z.string().max(64).optional() });
const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: z
    .string()
    .regex(/^[a-z0-9]{24}$/, 'expected a deployment id')
    .optional(),
});

export async function projectRoutes(
  app: FastifyInstance,
  opts: { projects: ProjectService; deployments: DeploymentService },
) {
  const { projects, deployments } = opts;

  // `?slug=` answers 200 with [] or [project]: the dashboard's availability check, without a 404.
  app.get('/projects', async (request) => {
    const { slug } = parse(ProjectsQuery, request.query, 'query');
    return slug === undefined ? projects.list() : projects.lookup(slug).then((p) => (p ? [p] : []));
  });

  app.post('/projects', async (request, reply) => {
    const body = parse(CreateProjectBodySchema, request.body);
    return reply.status(201).send(await projects.create(body));
  });

  app.get('/projects/:slug', async (request) => projects.get(slugParam(request.params)));

  app.patch('/projects/:slug', async (request) => {
    const slug = slugParam(request.params);
    return projects.update(slug, parse(UpdateProjectBodySchema, request.body));
  });

  app.delete('/projects/:slug', async (request, reply) => {
    await projects.delete(slugParam(request.params));
    return reply.status(204).send();
  });

  app.post('/projects/:slug/domains', async (request, reply) => {
    const slug = slugParam(request.params);
    const { hostname } = parse(AddDomainBodySchema, request.body);
    return reply.status(201).send(await projects.addDomain(slug, hostname));
  });

  app.delete('/projects/:slug/domains/:hostname', async (request, reply) => {
    const slug = slugParam(request.params);
    const { hostname } = parse(DomainParams, request.params, 'params');
    await projects.removeDomain(slug, hostname.toLowerCase());
    return reply.status(204).send();
  });

  app.post('/projects/:slug/deployments', async (request, reply) => {
    const slug = slugParam(request.params);
    const body = parse(CreateDeploymentBodySchema, request.body ?? {});
    return reply.status(202).send(await deployments.create(slug, body));
  });

  app.get('/projects/:slug/deployments', async (request) => {
    const slug = slugParam(request.params);
    const query = parse(ListQuery, request.query, 'query');
    return deployments.listForProject(slug, query);
  });

  app.post('/projects/:slug/promote', async (request) => {
    const slug = slugParam(request.params);
    const { deploymentId } = parse(PromoteBodySchema, request.body);
    return deployments.promote(slug, deploymentId);
  });
}

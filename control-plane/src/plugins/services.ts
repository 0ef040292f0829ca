import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { DeploymentService } from '../deployments/deployment-service.js';
import type { ReadinessService } from '../health/readiness.js';
import type { SiteUrls } from '../hosts/site-urls.js';
import type { LogService } from '../logs/log-service.js';
import type { ProjectService } from '../projects/project-service.js';
import type { TrafficService } from '../traffic/traffic-service.js';

/** The services routes call. Routes reach them as `app.projects`, `app.deployments`, … */
export interface RouteServices {
  projects: ProjectService;
  deployments: DeploymentService;
  buildLogs: LogService;
  traffic: TrafficService;
  readiness: ReadinessService;
  siteUrls: SiteUrls;
}

declare module 'fastify' {
  // Merges the services into every Fastify instance's type; `routeServices` puts them there.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface FastifyInstance extends RouteServices {}
}

/**
 * Decorates the instance (and, through fastify-plugin, everything registered after it) with the
 * given services. The app passes all of them; a test of one feature's routes passes that
 * feature's.
 */
export const routeServices = fp(
  async (app: FastifyInstance, services: Partial<RouteServices>) => {
    const { projects, deployments, buildLogs, traffic, readiness, siteUrls } = services;
    if (projects) app.decorate('projects', projects);
    if (deployments) app.decorate('deployments', deployments);
    if (buildLogs) app.decorate('buildLogs', buildLogs);
    if (traffic) app.decorate('traffic', traffic);
    if (readiness) app.decorate('readiness', readiness);
    if (siteUrls) app.decorate('siteUrls', siteUrls);
  },
  { name: 'deploysphere-route-services', fastify: '5.x' },
);

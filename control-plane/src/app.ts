import { fileURLToPath } from 'node:url';
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from './context.js';
import { accountRoutes } from './accounts/account-routes.js';
import { AccountService } from './accounts/account-service.js';
import { invitationRoutes } from './accounts/invitation-routes.js';
import { oidcRoutes } from './accounts/oidc-routes.js';
import { LogOutbox } from './accounts/outbox.js';
import { passwordResetRoutes } from './accounts/password-reset-routes.js';
import { OidcSignIn } from './accounts/oidc-sign-in.js';
import { AuditRecorder } from './audit/audit-recorder.js';
import { auditRoutes } from './audit/audit-routes.js';
import { AuditStore } from './audit/audit-store.js';
import { authenticate } from './authz/authenticate.js';
import { authorize } from './authz/authorize.js';
import { buildSessionRoutes } from './build-sessions/build-session-routes.js';
import { cliDeployRoutes } from './cli-deploys/index.js';
import { deploymentRoutes } from './deployments/deployment-routes.js';
import { edgeMetricsRoutes } from './edge-metrics/index.js';
import { healthRoutes } from './health/health-routes.js';
import { ReadinessService } from './health/readiness.js';
import { siteRoutes } from './hosts/site-routes.js';
import { gcRoutes, GcScheduler } from './storage-gc/index.js';
import { ensureLogStream, LogService, logRoutes, migrateClickHouse, startLogIngester } from './logs/index.js';
import { EnvCipher } from './projects/env-cipher.js';
import { dashboard } from './plugins/dashboard.js';
import { errorHandler } from './plugins/error-handler.js';
import { httpMetrics, metricsRoute } from './plugins/metrics.js';
import { registerPlatformMetrics } from './metrics/index.js';
import { openApi } from './plugins/openapi.js';
import { routeServices } from './plugins/services.js';
import { zodSchemas } from './plugins/zod-schemas.js';
import { projectRoutes } from './projects/project-routes.js';
import { regionRoutes } from './regions/region-routes.js';
import { createServices } from './services.js';
import { session } from './session/session.js';
import { sessionRoutes } from './session/session-routes.js';
import { TrafficService } from './traffic/traffic-service.js';
import { TrafficStore } from './traffic/traffic-store.js';
import { trafficRoutes } from './traffic/traffic-routes.js';
import { RouteWriter } from './hosts/route-writer.js';
import { protectionLookup } from './protection/project-protection.js';
import { protectionRoutes } from './protection/protection-routes.js';
import { GitCredentialService, gitCredentialRoutes } from './git-credentials/index.js';
import {
  CommitNotifier,
  DeployHookService,
  deployHookRoutes,
  deployHookTriggerRoutes,
  hookRoutes,
  WebhookMetrics,
  WebhookService,
  webhookRoutes,
} from './webhooks/index.js';

export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url));

/** Request bodies above this answer 413; the largest legitimate body (a project with env) is far below. */
export const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * The control plane as a Fastify plugin. `server.ts` and the local platform only create the
 * instance, register this, and listen; tests register it on their own instance.
 */
export async function app(fastify: FastifyInstance, ctx: AppContext): Promise<void> {
  const { config } = ctx;
  await fastify.register(zodSchemas);
  await fastify.register(errorHandler);
  // Before any route: it collects them as they are added.
  await fastify.register(openApi);
  await fastify.register(httpMetrics, { registry: ctx.metrics });
  await fastify.register(metricsRoute, { registry: ctx.metrics });
  registerPlatformMetrics(fastify, ctx);
  await fastify.register(websocket);
  await fastify.register(session, { adminToken: config.adminToken });

  const services = createServices(ctx, fastify.log);
  const gcScheduler = new GcScheduler(services.gc, { intervalMs: config.gc.intervalMs, log: fastify.log });
  const accounts = new AccountService({
    db: ctx.db,
    dashboardUrl: config.controlPlaneUrl,
    outbox: ctx.outbox ?? new LogOutbox(fastify.log),
  });
  const auditStore = new AuditStore(ctx.clickhouse);
  const audit = new AuditRecorder({ store: auditStore, db: ctx.db, log: fastify.log });
  const traffic = new TrafficStore(ctx.clickhouse, config.rootDomain);
  const buildLogs = new LogService(ctx);
  await fastify.register(routeServices, {
    projects: services.projects,
    deployments: services.deployments,
    siteUrls: services.urls,
    buildLogs,
    traffic: new TrafficService(ctx.db, traffic),
    readiness: new ReadinessService({ ...ctx, edgeUrl: config.edgeUrl, rootDomain: config.rootDomain }),
  });

  const webhookMetrics = new WebhookMetrics(ctx.metrics);
  const gitCipher = new EnvCipher(config.envEncryptionKey);
  const commitNotifier = new CommitNotifier({
    db: ctx.db,
    cipher: gitCipher,
    nats: ctx.nats,
    urls: services.urls,
    log: fastify.log,
  });
  const webhooks = new WebhookService({
    db: ctx.db,
    cipher: gitCipher,
    deployments: services.deployments,
    metrics: webhookMetrics,
    log: fastify.log,
    routes: new RouteWriter(ctx.routes, config.rootDomain, protectionLookup(ctx.db)),
    notifier: commitNotifier,
  });

  let ingester: { stop(): Promise<void> } | undefined;
  fastify.addHook('onReady', async () => {
    await ensureLogStream(ctx.nats);
    await migrateClickHouse(ctx.clickhouse, { logRetentionDays: config.logRetentionDays });
    ingester = await startLogIngester(ctx);
    await services.pipeline.start();
    if (config.gc.enabled) gcScheduler.start();
    commitNotifier.start();
    services.cliDeployJanitor.start();
  });
  fastify.addHook('onClose', async () => {
    await audit.flush();
    await gcScheduler.stop();
    await commitNotifier.stop();
    await services.cliDeployJanitor.stop();
    await services.pipeline.stop();
    await ingester?.stop();
    await buildLogs.close();
  });

  await fastify.register(sessionRoutes, { prefix: '/api/v1', adminToken: config.adminToken, accounts });
  await fastify.register(invitationRoutes, { prefix: '/api/v1', accounts, audit });
  const oidc = new OidcSignIn({
    db: ctx.db,
    accounts,
    providers: config.oidcProviders,
    publicUrl: config.controlPlaneUrl,
    adminToken: config.adminToken,
  });
  await fastify.register(oidcRoutes, { prefix: '/api/v1', oidc });
  await fastify.register(passwordResetRoutes, { prefix: '/api/v1', accounts });
  await fastify.register(healthRoutes);
  // Protected previews' sign-in pages: the dashboard session or the project's password.
  await fastify.register(protectionRoutes, {
    protection: services.protection,
    accounts,
    adminToken: config.adminToken,
    dashboardUrl: config.controlPlaneUrl,
  });
  // Git providers' deliveries: each is authenticated by its hook's secret, not the admin token.
  await fastify.register(hookRoutes, { webhooks, metrics: webhookMetrics });
  const deployHooks = new DeployHookService({ db: ctx.db, deployments: services.deployments });
  await fastify.register(deployHookTriggerRoutes, { hooks: deployHooks, metrics: webhookMetrics });
  // Build workers' bootstrap and grants: their own tokens, never the admin token.
  await fastify.register(buildSessionRoutes, { sessions: services.sessions });
  if (config.edgeMetricsToken) {
    await fastify.register(edgeMetricsRoutes, {
      token: config.edgeMetricsToken,
      registry: ctx.metrics,
      regions: config.regions.map((r) => r.id),
      onBatch: (batch) => traffic.record(batch),
    });
  }

  await fastify.register(
    async (api) => {
      authenticate(api, { adminToken: config.adminToken, accounts });
      authorize(api, { db: ctx.db, accounts });
      audit.hook(api);
      await api.register(accountRoutes, { accounts, db: ctx.db });
      await api.register(auditRoutes, { store: auditStore, accounts });
      await api.register(regionRoutes, { regions: config.regions });
      await api.register(siteRoutes, { rootDomain: config.rootDomain });
      await api.register(projectRoutes);
      await api.register(deploymentRoutes);
      await api.register(cliDeployRoutes, {
        cliDeploys: services.cliDeploys,
        cliSources: services.cliSources,
      });
      await api.register(logRoutes);
      await api.register(trafficRoutes);
      await api.register(gcRoutes, { gc: services.gc });
      await api.register(webhookRoutes, { webhooks });
      await api.register(deployHookRoutes, { hooks: deployHooks });
      await api.register(gitCredentialRoutes, {
        credentials: new GitCredentialService({ db: ctx.db, cipher: gitCipher }),
      });
    },
    { prefix: '/api/v1' },
  );

  await fastify.register(dashboard, { root: config.dashboardDir ?? DEFAULT_DASHBOARD_DIR });
}

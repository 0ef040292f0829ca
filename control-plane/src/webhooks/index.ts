export { hookRoutes } from './hook-routes.js';
export { webhookRoutes } from './webhook-routes.js';
export { WebhookMetrics } from './webhook-metrics.js';
export { HOOK_PATH_PREFIX, WebhookService } from './webhook-service.js';
export { CommitNotifier } from './commit-notifier.js';
export { deployHookRoutes, deployHookTriggerRoutes } from './deploy-hook-routes.js';
export { DeployHookService } from './deploy-hook-service.js';

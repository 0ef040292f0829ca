export { cliDeployRoutes, CLI_DEPLOY_BODY_LIMIT_BYTES } from './cli-deploy-routes.js';
export { CliDeployService, type CliDeployServiceDeps } from './cli-deploy-service.js';
export { CliDeployStore } from './cli-deploy-store.js';
export { BatchPresignedGrants } from './batch-presigner.js';
export { CliSourceDeployService, specSource } from './cli-source-deploy-service.js';
export { CliDeployJanitor } from './cli-deploy-janitor.js';

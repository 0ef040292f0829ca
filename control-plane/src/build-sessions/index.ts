export { buildSessionRoutes, GRANTS_BODY_LIMIT_BYTES } from './build-session-routes.js';
export {
  BOOTSTRAP_TOKEN_TTL_MS,
  BuildSessionService,
  type BuildSessionDeps,
} from './build-session-service.js';
export { StorageGrants, type GrantBucket, type GrantScope } from './storage-grants.js';

export { gitCredentialRoutes } from './git-credential-routes.js';
export { cloneCredentialFor, GitCredentialService } from './git-credential-service.js';

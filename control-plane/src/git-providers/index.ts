export { DEFAULT_API_URL, providerApi } from './provider-api.js';
export type { CommitState, CommitStatus, GitProviderApi } from './provider-api.js';
export { ProviderApiError, type ApiTarget } from './provider-http.js';

export * from './account-jwts.js';
export * from './build-credentials.js';
export * from './build-permissions.js';
export * from './credentials.js';
export * from './nats-authority.js';
export * from './nats-identities.js';
export * from './server-config.js';
export * from './nats-auth-files.js';

export * from './child-process.js';
export * from './ecs-endpoint/index.js';
export * from './embedded/nats.js';
export * from './embedded/postgres.js';
export * from './embedded/s3rver.js';
export * from './nats-auth/index.js';
export * from './ports.js';
export * from './system-packages.js';

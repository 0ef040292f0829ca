export { GcService, type GcSettings } from './gc-service.js';
export { GcScheduler } from './gc-scheduler.js';
export { gcRoutes } from './gc-routes.js';
export type { GcBucket } from './bucket-ops.js';

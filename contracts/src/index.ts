export * from './config.js';
export * from './errors.js';
export * from './ids.js';
export * from './manifest.js';
export * from './regions.js';
export * from './route-record.js';
export * from './build.js';
export * from './subjects.js';

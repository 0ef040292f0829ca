export * from './embedded/s3rver.js';

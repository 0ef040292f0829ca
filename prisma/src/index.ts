export { createDb, type Db } from './client.js';
export { loadMigrations, migrate, MigrationError, MIGRATIONS_DIR, type Migration } from './migrator.js';
export * from '../generated/client/client.js';

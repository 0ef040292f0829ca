import { defineConfig } from 'prisma/config';

// Only `prisma generate` runs here; migrations are applied by src/migrator.ts (see docs/database.md).
export default defineConfig({
  schema: 'schema.prisma',
  migrations: { path: 'migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/deploysphere' },
});

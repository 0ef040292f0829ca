import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@deploysphere/stack';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, MIGRATIONS_DIR, MigrationError } from '../src/migrator.js';

let dir: string;
let server: EmbeddedPostgresHandle;
let adminUrl: string;

async function freshDatabase(name: string): Promise<string> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function rows<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-migrator-'));
  server = await startEmbeddedPostgres({ dataDir: join(dir, 'pg') });
  adminUrl = server.url;
});
afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('migrator', () => {
  it("applies every migration once and records it as Prisma does, with the file's sha256", async () => {
    const url = await freshDatabase('m_apply');
    const first = await migrate(url);
    const migrations = await loadMigrations();
    expect(first.applied).toEqual(migrations.map((m) => m.name));

    const second = await migrate(url);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(first.applied);

    const recorded = await rows<{ migration_name: string; checksum: string; applied_steps_count: number }>(
      url,
      'SELECT migration_name, checksum, applied_steps_count FROM "_prisma_migrations" WHERE finished_at IS NOT NULL ORDER BY migration_name',
    );
    expect(recorded).toEqual(
      migrations.map((m) => ({ migration_name: m.name, checksum: m.checksum, applied_steps_count: 1 })),
    );
    // sha256 hex, as `prisma migrate deploy` computes it
    expect(recorded[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rolls a failing migration back whole and records nothing for it', async () => {
    const url = await freshDatabase('m_fail');
    const migrationsDir = join(dir, 'failing');
    await cp(MIGRATIONS_DIR, migrationsDir, { recursive: true });
    const bad = join(migrationsDir, '29990101000000_bad');
    await import('node:fs/promises').then((fs) => fs.mkdir(bad));
    await writeFile(
      join(bad, 'migration.sql'),
      'CREATE TABLE "half" (id int);\nSELECT no_such_function();\n',
    );

    await expect(migrate(url, migrationsDir)).rejects.toThrow(
      /29990101000000_bad failed and was rolled back/,
    );
    const tables = await rows<{ table_name: string }>(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_name = 'half'",
    );
    expect(tables).toEqual([]);
    const recorded = await rows<{ migration_name: string }>(
      url,
      'SELECT migration_name FROM "_prisma_migrations"',
    );
    expect(recorded.map((r) => r.migration_name)).not.toContain('29990101000000_bad');
  });

  it('refuses to run when an applied migration file was edited', async () => {
    const url = await freshDatabase('m_edit');
    const migrationsDir = join(dir, 'edited');
    await cp(MIGRATIONS_DIR, migrationsDir, { recursive: true });
    await migrate(url, migrationsDir);
    const [first] = await loadMigrations(migrationsDir);
    await writeFile(join(migrationsDir, first!.name, 'migration.sql'), `${first!.sql}\n-- edited\n`);
    await expect(migrate(url, migrationsDir)).rejects.toBeInstanceOf(MigrationError);
  });
});

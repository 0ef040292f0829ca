// `npm run db:migrate`: applies pending migrations to DATABASE_URL.
import { envUrl, parseConfig, ConfigError } from '@deploysphere/contracts';
import { z } from 'zod';
import { migrate } from '../migrator.js';

const ConfigSchema = z.object({
  DATABASE_URL: envUrl(['postgres', 'postgresql']).refine((v) => v !== undefined, 'is required'),
});

try {
  const { DATABASE_URL } = parseConfig(ConfigSchema, process.env, 'db:migrate');
  const { applied, alreadyApplied } = await migrate(DATABASE_URL!);
  console.log(
    applied.length === 0
      ? `Database is up to date (${alreadyApplied.length} migrations applied earlier).`
      : `Applied ${applied.length} migration(s): ${applied.join(', ')}`,
  );
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `db:migrate failed: ${(err as Error).message}`);
  process.exitCode = err instanceof ConfigError ? 2 : 1;
}

// Runs after `npm install` / `npm ci`: generates the Prisma client and builds the dashboard, so
// `npm start` and `npm test` need no further step. Child processes take argument arrays only.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = (name) => join(root, 'node_modules', '.bin', name);

function run(label, file, args, cwd, env = {}) {
  process.stdout.write(`deploysphere postinstall: ${label}\n`);
  execFileSync(file, args, { cwd, stdio: 'inherit', env: { ...process.env, ...env } });
}

run('generating the Prisma client', bin('prisma'), ['generate'], join(root, 'prisma'), {
  PRISMA_SCHEMA_ENGINE_BINARY: join(root, 'scripts', 'schema-engine-stub.sh'),
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
});

if (existsSync(join(root, 'dashboard', 'vite.config.ts'))) {
  run('building the dashboard', bin('vite'), ['build', '--logLevel', 'warn'], join(root, 'dashboard'));
}

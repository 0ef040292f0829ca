import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAX_BUNDLE_BYTES = 1024 * 1024;

let outdir = '';
afterAll(async () => {
  if (outdir) await rm(outdir, { recursive: true, force: true });
});

it('bundles with `wrangler deploy --dry-run` from the top-level wrangler.toml, under 1 MiB', async () => {
  outdir = await mkdtemp(join(tmpdir(), 'edge-dry-run-'));
  const { stdout } = await run(
    join(ROOT, 'node_modules/.bin/wrangler'),
    ['deploy', '--dry-run', '--outdir', outdir, '--config', join(ROOT, 'wrangler.toml')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_SEND_METRICS: 'false',
        CI: 'true',
      },
      timeout: 90_000,
    },
  );
  expect(stdout).toMatch(/--dry-run: exiting now/);
  const files = (await readdir(outdir)).filter((f) => f.endsWith('.js'));
  expect(files.length).toBeGreaterThan(0);
  let total = 0;
  for (const file of files) total += (await stat(join(outdir, file))).size;
  console.log(`edge worker bundle: ${files.join(', ')} = ${(total / 1024).toFixed(1)} KiB (limit 1024 KiB)`);
  expect(total).toBeLessThan(MAX_BUNDLE_BYTES);
}, 120_000);

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CONTROL_PLANE_STACK_NAME, regionStackName } from '../src/names.js';
import { committedSettings, INFRA_DIR, REPO_ROOT } from './helpers.js';

const run = promisify(execFile);

/**
 * The assertions build the stacks in-process with the context loaded by hand; only the real CLI
 * shows that a synth needs no AWS account: with a concrete env, a missing cdk.context.json entry
 * makes the VPC look its zones up, which fails without credentials.
 */
describe('npm run infra:synth', () => {
  it('synthesises every region offline, with no AWS credentials', async () => {
    const out = join(INFRA_DIR, 'cdk.out');
    rmSync(out, { recursive: true, force: true });
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of Object.keys(env))
      if (name.startsWith('AWS_') || name.startsWith('CDK_')) delete env[name];
    Object.assign(env, {
      // No credentials anywhere: not in a profile, and not from an instance metadata service.
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true',
      CDK_DISABLE_VERSION_CHECK: 'true',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
    });
    const started = Date.now();
    const { stderr } = await run('npm', ['run', '--silent', 'infra:synth'], {
      cwd: REPO_ROOT,
      env,
      timeout: 50_000,
    });
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeLessThan(30);

    expect(stderr).not.toMatch(/Unable to resolve AWS account|Need to perform AWS calls/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      missing?: unknown[];
    };
    // A lookup the context did not answer would be listed here.
    expect(manifest.missing).toBeUndefined();
    const settings = committedSettings();
    const stacks = [...settings.regions.map((r) => regionStackName(r.region)), CONTROL_PLANE_STACK_NAME];
    for (const stack of stacks) {
      const file = join(out, `${stack}.template.json`);
      expect(existsSync(file), file).toBe(true);
      const template = JSON.parse(readFileSync(file, 'utf8')) as { Resources: Record<string, unknown> };
      expect(Object.keys(template.Resources).length).toBeGreaterThan(0);
    }
  }, 60_000);
});

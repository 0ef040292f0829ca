// The built `deploysphere` CLI as a test runs it: a child process against a test platform, with
// the token from the environment (as in CI), and the checks its tests share.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { z } from 'zod';
import { REPO_ROOT } from './cli-process.js';
import type { TestPlatform } from './harness.js';

export const CLI_BIN = join(REPO_ROOT, 'cli/bin/deploysphere.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in `dir` (also its HOME and config), signed in through the environment unless `env` says otherwise. */
export function runCli(
  t: TestPlatform,
  dir: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: opts.cwd ?? dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, 'config'),
      DEPLOYSPHERE_URL: t.platform.controlPlaneUrl,
      DEPLOYSPHERE_TOKEN: t.platform.adminToken,
      ...opts.env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(opts.stdin ?? '');
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** `--json` output: exactly one line on stdout, parsed against its contract. */
export function oneJson<S extends z.ZodType>(run: CliResult, schema: S): z.output<S> {
  const lines = run.stdout.split('\n').filter((l) => l !== '');
  expect(lines, `stdout: ${run.stdout}\nstderr: ${run.stderr}`).toHaveLength(1);
  return schema.parse(JSON.parse(lines[0]!));
}

export async function writeFolder(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

/** The edge caches route records briefly: poll until `host` serves `text`; answers the body. */
export async function servedAt(
  t: TestPlatform,
  host: string,
  text: string,
  path = '/',
  withinMs = 30_000,
): Promise<string> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const res = await t.visit(host, path);
    if (res.body.includes(text)) return res.body;
    if (Date.now() > deadline)
      throw new Error(`${host}${path} answers ${res.status}: ${res.body.slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesWithMarker, tempDir, waitFor } from '../test/helpers.js';
import { BuildError } from './build-error.js';
import { CollectingLogSink } from './log-sink.js';
import { findBwrap, runInSandbox, type SandboxCommand } from './sandbox.js';

const bwrapPath = findBwrap();
const secret = `sekret-${Math.random().toString(36).slice(2)}`;
let root: string;
let dataDir: string;
let checkoutDir: string;
let homeDir: string;

beforeAll(async () => {
  root = await tempDir('bw-sandbox-');
  dataDir = join(root, 'platform-data');
  checkoutDir = join(root, 'build', 'repo');
  homeDir = join(root, 'build', 'home');
  await mkdir(dataDir, { recursive: true });
  await mkdir(checkoutDir, { recursive: true });
  await mkdir(homeDir, { recursive: true });
  await writeFile(join(dataDir, 'secret.txt'), secret);
  process.env.DEPLOYSPHERE_PLANTED_SECRET = secret;
  process.env.DATA_DIR = dataDir;
});

afterAll(async () => {
  delete process.env.DEPLOYSPHERE_PLANTED_SECRET;
  delete process.env.DATA_DIR;
  await rm(root, { recursive: true, force: true });
});

function command(
  cmd: string,
  overrides: Partial<SandboxCommand> = {},
): SandboxCommand & { logs: CollectingLogSink } {
  return {
    command: cmd,
    checkoutDir,
    homeDir,
    workdir: '',
    env: { PROJECT_VALUE: 'project-visible' },
    limits: { timeoutMs: 30_000, memoryMb: 2048, cpuSeconds: 60 },
    logs: new CollectingLogSink(),
    mode: { kind: 'bwrap', bwrapPath: bwrapPath ?? 'bwrap' },
    label: 'build',
    ...overrides,
  } as SandboxCommand & { logs: CollectingLogSink };
}

async function failure(cmd: SandboxCommand): Promise<BuildError> {
  try {
    await runInSandbox(cmd);
  } catch (err) {
    if (err instanceof BuildError) return err;
    throw err;
  }
  throw new Error('expected the command to fail');
}

describe.skipIf(!bwrapPath)('runInSandbox with bubblewrap', () => {
  it('passes the project env, a writable checkout and home, and nothing of the platform', async () => {
    const cmd = command(
      [
        'echo "value=$PROJECT_VALUE home=$HOME ci=$CI pwd=$(pwd) uid=$(id -u)"',
        'echo hello > out.txt && echo "checkout writable"',
        'touch "$HOME/x" && echo "home writable"',
        'touch /usr/forbidden 2>/dev/null || echo "usr read-only"',
        `echo "parent-env=[$DEPLOYSPHERE_PLANTED_SECRET] data-dir=[$DATA_DIR]"`,
        `cat ${join(dataDir, 'secret.txt')} 2>&1 || echo "data dir invisible"`,
        `ls ${root} 2>&1 || echo "temp root invisible"`,
        'cat /proc/1/environ | tr "\\0" "\\n"; echo "--"; cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"',
        'env',
        `grep -rs ${secret} /etc /home /tmp /workspace /proc/1/environ /proc/1/cmdline 2>/dev/null; echo "grep done"`,
        'ls /',
      ].join('\n'),
    );
    await runInSandbox(cmd);
    const text = cmd.logs.text();
    expect(text).toContain('value=project-visible home=/home/builder ci=1 pwd=/workspace uid=1000');
    expect(text).toContain('checkout writable');
    expect(text).toContain('home writable');
    expect(text).toContain('usr read-only');
    expect(text).toContain('parent-env=[] data-dir=[]');
    expect(text).toContain('data dir invisible');
    expect(text).toContain('temp root invisible');
    expect(text).toContain('grep done');
    expect(text).not.toContain(secret);
    expect(await readFile(join(checkoutDir, 'out.txt'), 'utf8')).toBe('hello\n');
  });

  it('fails with the exit code and the last lines of output', async () => {
    const cmd = command('for i in $(seq 1 30); do echo "line $i"; done; echo "boom" >&2; exit 7');
    const err = await failure(cmd);
    expect(err.kind).toBe('command_failed');
    expect(err.exitCode).toBe(7);
    expect(err.message).toContain('exit code 7');
    expect(err.message).toContain('line 30');
    expect(err.message).toContain('boom');
    expect(err.message).not.toContain('line 5\n');
    expect(cmd.logs.lines).toContainEqual({ stream: 'stderr', line: 'boom' });
    expect(cmd.logs.lines).toContainEqual({ stream: 'stdout', line: 'line 1' });
  });

  it('applies the memory and CPU limits', async () => {
    const limits = command('echo "as=$(ulimit -v) cpu=$(ulimit -t)"', {
      limits: { timeoutMs: 30_000, memoryMb: 1024, cpuSeconds: 42 },
    });
    await runInSandbox(limits);
    expect(limits.logs.text()).toContain(`as=${1024 * 1024} cpu=42`);

    const hog = command('node -e "const keep = []; for (;;) keep.push(Buffer.alloc(64 * 1024 * 1024, 1))"', {
      limits: { timeoutMs: 60_000, memoryMb: 1024, cpuSeconds: 60 },
    });
    const err = await failure(hog);
    expect(err.kind).toBe('command_failed');
    expect(err.exitCode).not.toBe(0);

    const spin = command('while :; do :; done', {
      limits: { timeoutMs: 60_000, memoryMb: 1024, cpuSeconds: 1 },
    });
    const cpuErr = await failure(spin);
    expect(cpuErr.kind).toBe('command_failed');
    expect(cpuErr.message).toContain('BUILD_CPU_SECONDS');
  });

  it('stops a command that passes the wall-clock limit, with everything it started', async () => {
    const marker = String(800000 + Math.floor(Math.random() * 99999));
    const cmd = command(`sleep ${marker} & sleep ${marker}`, {
      limits: { timeoutMs: 1500, memoryMb: 2048, cpuSeconds: 60 },
    });
    const err = await failure(cmd);
    expect(err.kind).toBe('timeout');
    expect(err.message).toContain('BUILD_TIMEOUT_MS');
    await waitFor(async () => (await processesWithMarker(`sleep\0${marker}`)).length === 0);
  });

  it('kills the whole process tree on cancel, even processes in a new session', async () => {
    const marker = String(700000 + Math.floor(Math.random() * 99999));
    const controller = new AbortController();
    const cmd = command(`setsid sleep ${marker} & (sleep ${marker} &) ; sleep ${marker}`, {
      signal: controller.signal,
    });
    const running = failure(cmd);
    await waitFor(async () => (await processesWithMarker(`sleep\0${marker}`)).length >= 3);
    controller.abort();
    const err = await running;
    expect(err.kind).toBe('cancelled');
    await waitFor(async () => (await processesWithMarker(`sleep\0${marker}`)).length === 0);
  });

  it('runs npm with its cache under the sandbox home', async () => {
    const cmd = command('npm --version && npm config get cache');
    await runInSandbox(cmd);
    expect(cmd.logs.text()).toMatch(/^\d+\.\d+\.\d+$/m);
    expect(cmd.logs.text()).toContain('/home/builder/.npm');
  });
});

describe('runInSandbox without a sandbox (ALLOW_UNSANDBOXED_BUILDS)', () => {
  it('still gives the command a clean environment and the limits', async () => {
    const cmd = command(
      `echo "value=$PROJECT_VALUE parent=[$DEPLOYSPHERE_PLANTED_SECRET] cpu=$(ulimit -t)"`,
      {
        mode: { kind: 'none' },
      },
    );
    await runInSandbox(cmd);
    expect(cmd.logs.text()).toContain('value=project-visible parent=[] cpu=60');
    expect(cmd.logs.text()).not.toContain(secret);
  });
});

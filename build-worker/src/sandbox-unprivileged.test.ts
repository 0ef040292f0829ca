import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { UNPRIVILEGED_UID, unprivilegedMode } from './sandbox.js';

// BUILD_SANDBOX=unprivileged, the mode for Fargate (no bubblewrap there): user commands run as
// another uid with no privileges. The probe is a stand-in worker, a separate process that holds a
// secret in its own initial environment, as a real worker holds its launch variables; its user
// command tries to read that environment through /proc.

const SANDBOX_TS = fileURLToPath(new URL('./sandbox.ts', import.meta.url));
const secret = `planted-${Math.random().toString(36).slice(2)}`;
let root: string;
let probe: string;

beforeAll(async () => {
  root = await tempDir('bw-unpriv-');
  // The build user reaches its checkout and home through here, as through a worker's WORK_DIR.
  await chmod(root, 0o711);
  for (const d of ['build/repo', 'build/home']) await mkdir(join(root, d), { recursive: true });
  for (const d of ['build/repo', 'build/home'])
    await chown(join(root, d), UNPRIVILEGED_UID, UNPRIVILEGED_UID);
  probe = join(root, 'probe.mts');
  await writeFile(
    probe,
    `import { runInSandbox, unprivilegedMode } from ${JSON.stringify(SANDBOX_TS)};
const [kind, command] = process.argv.slice(2);
const found = unprivilegedMode();
const mode = kind === 'unprivileged' ? found.mode : { kind: 'none' };
const lines = [];
let error = null;
try {
  await runInSandbox({
    command: command.replaceAll('WORKER_PID', String(process.pid)),
    checkoutDir: ${JSON.stringify(join(root, 'build/repo'))},
    homeDir: ${JSON.stringify(join(root, 'build/home'))},
    workdir: '',
    env: { PROJECT_VALUE: 'project-visible' },
    limits: { timeoutMs: 30000, memoryMb: 2048, cpuSeconds: 60 },
    logs: { write: (_stream, line) => lines.push(line) },
    mode,
    label: 'build',
  });
} catch (err) {
  error = err.message;
}
process.stdout.write(JSON.stringify({ lines, error }));
`,
  );
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs `command` as the probe worker's user command; the worker's env holds the secret. */
function asUserCommand(
  kind: 'unprivileged' | 'none',
  command: string,
): Promise<{ lines: string[]; error: string | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', probe, kind, command], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', WORKER_SECRET: secret },
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`probe exited ${code}`)),
    ),
  );
}

const readEnviron = `cat /proc/WORKER_PID/environ | tr '\\0' '\\n'`;

describe('runInSandbox, unprivileged (BUILD_SANDBOX=unprivileged)', () => {
  it('can run here: setpriv and a root worker', () => {
    expect(unprivilegedMode()).toHaveProperty('mode');
  });

  it("cannot read the worker's /proc/<pid>/environ, which the same command reads without the uid change", async () => {
    const unprivileged = await asUserCommand('unprivileged', readEnviron);
    expect(unprivileged.lines.join('\n')).toMatch(/Permission denied/);
    expect(JSON.stringify(unprivileged)).not.toContain(secret);
    // The probe works: as the worker's own user the same command reads the secret. If the uid
    // change were dropped, the first half would fail.
    const same = await asUserCommand('none', readEnviron);
    expect(same.error).toBeNull();
    expect(same.lines).toContain(`WORKER_SECRET=${secret}`);
  });

  it('runs as nobody with no privileges, no capabilities, a clean env and the limits', async () => {
    const { lines, error } = await asUserCommand(
      'unprivileged',
      [
        'id -u; id -g; id -G',
        "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status",
        'env',
        'ulimit -v; ulimit -c',
        'echo "home: $HOME"; touch "$HOME/written" && echo home-writable',
        'touch "$TMPDIR/x" && echo tmp-writable',
        'touch /etc/x 2>/dev/null || echo etc-refused',
      ].join('; '),
    );
    expect(error).toBeNull();
    const text = lines.join('\n');
    expect(lines.slice(0, 3)).toEqual(['65534', '65534', '65534']);
    for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'])
      expect(text).toMatch(new RegExp(`${cap}:\\s+0000000000000000`));
    expect(text).toMatch(/NoNewPrivs:\s+1/);
    expect(text).toContain('PROJECT_VALUE=project-visible');
    expect(text).not.toContain(secret);
    expect(text).not.toContain('WORKER_SECRET');
    expect(lines).toContain(String(2048 * 1024));
    expect(text).toContain('home-writable');
    expect(text).toContain('tmp-writable');
    expect(text).toContain('etc-refused');
  });
});

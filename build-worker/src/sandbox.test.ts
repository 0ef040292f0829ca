import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesWithMarker, tempDir, waitFor } from '../test/helpers.js';
import { BuildError } from './build-error.js';
import { createEgressPolicy } from './egress/egress-policy.js';
import { startEgressProxy } from './egress/egress-proxy.js';
import { CollectingLogSink } from './log-sink.js';
import { findBwrap, runInSandbox, SANDBOX_PROXY_PORT, type SandboxCommand } from './sandbox.js';

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

describe('runInSandbox with bubblewrap', () => {
  it('has bubblewrap to run with (npm test installs it)', () => {
    expect(bwrapPath).not.toBeNull();
  });

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
    expect(cpuErr.message).toContain('killed by SIGXCPU');
    expect(cpuErr.message).toContain('BUILD_CPU_SECONDS');
  });

  it('does not blame a signal or a limit for an exit code above 128 (npm exits 254 without package.json)', async () => {
    const err = await failure(command('npm run build'));
    expect(err.message).toContain('failed with exit code 254');
    expect(err.message).not.toMatch(/signal|BUILD_CPU_SECONDS|BUILD_MEMORY_MB/);
    const plain = await failure(command('exit 137'));
    expect(plain.message).toContain('failed with exit code 137');
    expect(plain.message).not.toMatch(/killed|signal/);
    const killed = await failure(command('kill -TERM $$'));
    expect(killed.message).toContain('killed by SIGTERM');
    expect(killed.message).not.toMatch(/BUILD_CPU_SECONDS|BUILD_MEMORY_MB/);
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

describe('what a sandboxed command can see of the host', () => {
  let listener: Server;
  let port: number;
  beforeAll(async () => {
    listener = createServer((s) => s.on('error', () => undefined).end('platform service\n'));
    await new Promise<void>((ok) => listener.listen(0, '127.0.0.1', ok));
    port = (listener.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((ok) => listener.close(ok));
  });

  /** Tries a TCP connection from inside the sandbox with Node (no curl needed). */
  const nodeConnect = (host: string, p: number) =>
    `node -e 'const s=require("net").connect(${p},"${host}");s.on("connect",()=>{console.log("CONNECTED ${host}:${p}");s.destroy()});s.on("error",e=>console.log("FAILED ${host}:${p} "+e.code))'`;

  it('has no network but its own loopback when it has no egress proxy', async () => {
    // The listener answers the host, so a sandbox sharing the host's network would reach it.
    await new Promise<void>((ok, fail) => {
      const probe = connect(port, '127.0.0.1');
      probe
        .on('connect', () => probe.destroy())
        .on('close', () => ok())
        .on('error', fail);
    });
    const cmd = command(
      [`cat /proc/net/dev | tail -n +3 | cut -d: -f1`, nodeConnect('127.0.0.1', port)].join('\n'),
    );
    await runInSandbox(cmd);
    const text = cmd.logs.text();
    expect(text.split('\n').map((l) => l.trim())).toContain('lo');
    expect(text).not.toMatch(/^\s*(eth|ens|enp|veth|wl)/m);
    expect(text).toContain(`FAILED 127.0.0.1:${port} ECONNREFUSED`);
    expect(text).not.toContain('CONNECTED');
  });

  it("sees neither the host's processes, nor another build, nor anything in /proc/1/environ", async () => {
    const other = join(root, 'other-build');
    await mkdir(join(other, 'repo'), { recursive: true });
    await writeFile(join(other, 'repo', 'their-secret.txt'), secret);
    const cmd = command(
      [
        'for p in /proc/[0-9]*; do echo "pid ${p#/proc/} $(tr "\\0" " " < $p/cmdline)"; done',
        'echo "environ-bytes=$(wc -c < /proc/1/environ)"',
        `ls ${join(other, 'repo')} 2>&1 || echo "other build invisible"`,
        'ls /workspace/.. /home',
      ].join('\n'),
    );
    await runInSandbox(cmd);
    const text = cmd.logs.text();
    const pids = text.split('\n').filter((l) => l.startsWith('pid '));
    // bwrap's init, the shell, and the loop's own processes: nothing of the host.
    expect(pids.length).toBeLessThanOrEqual(6);
    expect(text).not.toContain('vitest');
    expect(text).not.toContain(String(process.pid));
    expect(text).toContain('environ-bytes=0');
    expect(text).toContain('other build invisible');
    expect(text).not.toContain(secret);
  });

  it('runs with every capability dropped and cannot make new user namespaces', async () => {
    const cmd = command(
      'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status; unshare -U true 2>&1 && echo "USERNS ALLOWED" || echo "userns refused"',
    );
    await runInSandbox(cmd);
    const caps = cmd.logs.lines.filter((l) => l.line.startsWith('Cap'));
    expect(caps).toHaveLength(5);
    for (const { line } of caps) expect(line).toMatch(/:\s+0{16}$/);
    expect(cmd.logs.text()).toContain('userns refused');
  });

  it('reaches the registry through the egress proxy, and the host through nothing', async () => {
    const proxyLogs = new CollectingLogSink();
    const proxy = await startEgressProxy({
      socketPath: join(root, 'egress.sock'),
      policy: createEgressPolicy(),
      logs: proxyLogs,
    });
    try {
      const cmd = command(
        [
          'npm view left-pad version',
          nodeConnect('127.0.0.1', port),
          // Asking the proxy itself for the host: a plain request and a tunnel, both refused.
          `node -e 'require("http").get({host:"127.0.0.1",port:${SANDBOX_PROXY_PORT},path:"http://127.0.0.1:${port}/"},r=>console.log("PLAIN "+r.statusCode))'`,
          `node -e 'require("http").request({host:"127.0.0.1",port:${SANDBOX_PROXY_PORT},method:"CONNECT",path:"127.0.0.1:443"}).on("connect",r=>{console.log("TUNNEL "+r.statusCode);process.exit()}).end()'`,
        ].join('\n'),
        { egress: { socketPath: proxy.socketPath } },
      );
      await runInSandbox(cmd);
      const text = cmd.logs.text();
      expect(text).toMatch(/^1\.\d+\.\d+$/m);
      expect(text).toContain(`FAILED 127.0.0.1:${port} ECONNREFUSED`);
      expect(text).toContain('PLAIN 403');
      expect(text).toContain('TUNNEL 403');
      expect(proxyLogs.text()).toContain('Egress: registry.npmjs.org:443');
      expect(proxyLogs.text()).toContain('Egress refused: 127.0.0.1:443: a loopback address');
    } finally {
      await proxy.close();
    }
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

// The cost of build isolation: `npm ci` of a real app with a few hundred packages, on the host
// versus inside the build sandbox (own network namespace, out only through the egress proxy).
// Both start from an empty npm cache, so both download every tarball from the registry; the two
// alternate within each round, and medians over rounds are reported.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEgressPolicy } from '../build-worker/src/egress/egress-policy.js';
import { startEgressProxy } from '../build-worker/src/egress/egress-proxy.js';
import { CollectingLogSink } from '../build-worker/src/log-sink.js';
import { runProcess } from '../build-worker/src/run-process.js';
import { findBwrap, nodeToolchainDir, runInSandbox, sandboxEnv } from '../build-worker/src/sandbox.js';

/** A Vite + React app with Babel, Tailwind and its lint and test tooling: a few hundred packages. */
const APP = {
  name: 'bench-install',
  private: true,
  type: 'module',
  dependencies: { react: '^19.1.0', 'react-dom': '^19.1.0' },
  devDependencies: {
    vite: '^8.0.0',
    '@vitejs/plugin-react': '^6.0.0',
    eslint: '^9.36.0',
    typescript: '~6.0.3',
    vitest: '^4.1.0',
    prettier: '^3.6.0',
    '@babel/core': '^7.28.0',
    '@babel/preset-env': '^7.28.0',
    tailwindcss: '^3.4.0',
    autoprefixer: '^10.4.0',
  },
};
const INSTALL = 'npm ci --no-audit --no-fund --loglevel=error';
const LIMITS = { timeoutMs: 10 * 60_000, memoryMb: 4096, cpuSeconds: 30 * 60 };

export interface SandboxInstallResult {
  packages: number;
  hostMs: number;
  sandboxMs: number;
  rounds: { hostMs: number; sandboxMs: number }[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchSandboxInstall(rounds: number): Promise<SandboxInstallResult> {
  const bwrapPath = findBwrap();
  if (!bwrapPath) throw new Error('bench: bubblewrap is not installed (npm start or npm test installs it)');
  const work = await mkdtemp(join(tmpdir(), 'ds-bench-install-'));
  try {
    // One lockfile for every run, so host and sandbox install exactly the same tree.
    const template = join(work, 'template');
    await mkdir(template, { recursive: true });
    await writeFile(join(template, 'package.json'), JSON.stringify(APP, null, 2));
    const hostEnv = (cache: string) => ({
      ...sandboxEnv({}, join(work, 'host-home'), join(nodeToolchainDir(), 'bin')),
      npm_config_cache: cache,
    });
    const locked = await runProcess('sh', ['-c', 'npm install --package-lock-only --no-audit --no-fund'], {
      cwd: template,
      env: hostEnv(join(work, 'lock-cache')),
    });
    if (locked.code !== 0) throw new Error(`npm could not lock the app:\n${locked.tail.join('\n')}`);
    const lock = JSON.parse(await readFile(join(template, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>;
    };
    const packages = Object.keys(lock.packages).filter((k) => k !== '').length;

    const results: { hostMs: number; sandboxMs: number }[] = [];
    for (let round = 1; round <= rounds; round++) {
      const host = async () => {
        const dir = join(work, `host-${round}`);
        await cp(template, dir, { recursive: true });
        const t0 = performance.now();
        const res = await runProcess('sh', ['-c', INSTALL], { cwd: dir, env: hostEnv(join(dir, '.cache')) });
        if (res.code !== 0) throw new Error(`npm ci on the host failed:\n${res.tail.join('\n')}`);
        return performance.now() - t0;
      };
      const sandbox = async () => {
        const build = join(work, `sandbox-${round}`);
        const checkoutDir = join(build, 'repo');
        const homeDir = join(build, 'home');
        await cp(template, checkoutDir, { recursive: true });
        await mkdir(homeDir, { recursive: true });
        const logs = new CollectingLogSink();
        const t0 = performance.now();
        // The proxy is part of what isolation costs, so it is started inside the measurement.
        const proxy = await startEgressProxy({
          socketPath: join(build, 'egress.sock'),
          policy: createEgressPolicy(),
          logs,
        });
        try {
          await runInSandbox({
            command: INSTALL,
            checkoutDir,
            homeDir,
            workdir: '',
            env: {},
            limits: LIMITS,
            logs,
            mode: { kind: 'bwrap', bwrapPath },
            label: 'install',
            egress: { socketPath: proxy.socketPath },
          });
        } finally {
          await proxy.close();
        }
        return performance.now() - t0;
      };
      // Alternate who goes first, so a warming registry or page cache favours neither side.
      let hostMs: number;
      let sandboxMs: number;
      if (round % 2 === 1) {
        hostMs = await host();
        sandboxMs = await sandbox();
      } else {
        sandboxMs = await sandbox();
        hostMs = await host();
      }
      results.push({ hostMs, sandboxMs });
      process.stdout.write(
        `install round ${round}: host ${(hostMs / 1000).toFixed(2)} s, sandbox ${(sandboxMs / 1000).toFixed(2)} s (${(sandboxMs / hostMs).toFixed(2)}×)\n`,
      );
    }
    return {
      packages,
      hostMs: median(results.map((r) => r.hostMs)),
      sandboxMs: median(results.map((r) => r.sandboxMs)),
      rounds: results,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

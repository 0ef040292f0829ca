import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { workerEnv } from '@deploysphere/build-worker/config';
import type { BuildLimits } from '../config.js';
import type { BuildExit, BuildHandle, BuildLaunch, BuildRunner } from './build-runner.js';
import { workerCommand, workerStaticEnv } from './worker-launch.js';
import { sampleProcessTree } from '@deploysphere/stack';

const STOP_GRACE_MS = 5_000;

/**
 * Runs the build worker as a local child process, the same program an ECS task runs, launched
 * the same way.
 *
 * - Its environment is built from scratch: DEPLOYMENT_ID, NATS_URL, CONTROL_PLANE_URL, the
 *   one-time BOOTSTRAP_TOKEN and the static settings. The platform's own variables (database URL,
 *   admin token, cloud credentials, the control plane's NATS credentials) never reach it; the
 *   worker exchanges the token for its spec, its own NATS user and its grants. It then runs the
 *   user's commands in the sandbox with only the project's env.
 * - It gets its own process group, so a stop takes the whole tree, and Ctrl-C in the terminal
 *   reaches the platform, which stops builds in order, rather than the builds directly.
 * - Its output goes to a file, not a pipe: a build outlives a crashed control plane and keeps
 *   reporting over JetStream, and the restarted control plane picks its events up.
 */
export class LocalRunner implements BuildRunner {
  readonly name = 'local';

  constructor(
    private readonly opts: {
      natsUrl: string;
      /** Where the worker exchanges its bootstrap token and asks for grants. */
      controlPlaneUrl: string;
      natsTlsCaFile?: string;
      limits: BuildLimits;
      path?: string;
    },
  ) {}

  async start(launch: BuildLaunch): Promise<BuildHandle> {
    const { limits } = this.opts;
    await mkdir(limits.workDir, { recursive: true });
    const logFile = await open(join(limits.workDir, `${launch.deploymentId}.worker.log`), 'a');
    // The static part is what an ECS task definition holds; the rest is the launch itself.
    const env: Record<string, string> = {
      ...workerStaticEnv({
        controlPlaneUrl: this.opts.controlPlaneUrl,
        limits,
        natsTlsCaFile: this.opts.natsTlsCaFile,
        path: this.opts.path,
      }),
      ...workerEnv({
        deploymentId: launch.deploymentId,
        natsUrl: this.opts.natsUrl,
        controlPlaneUrl: this.opts.controlPlaneUrl,
        bootstrapToken: launch.bootstrapToken,
        settings: {},
      }),
    };
    const [command, ...args] = workerCommand();
    const child = spawn(command!, args, {
      env,
      cwd: limits.workDir,
      detached: true,
      stdio: ['ignore', logFile.fd, logFile.fd],
    });
    // The child holds its own copy of the descriptor.
    await logFile.close();
    // Process accounting: the worker's whole tree, sandbox and build commands included.
    const usage = child.pid ? sampleProcessTree(child.pid) : undefined;
    const exited = new Promise<BuildExit>((resolve) => {
      child.once('exit', (code, signal) => {
        const resources = usage?.stop();
        resolve({ code, signal, ...(resources ? { resources } : {}) });
      });
      child.once('error', () => {
        usage?.stop();
        resolve({ code: null, signal: null });
      });
    });

    const killGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    return {
      deploymentId: launch.deploymentId,
      exited,
      async stop() {
        killGroup('SIGTERM');
        const timer = setTimeout(() => killGroup('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
        // The worker is the group leader; anything it left behind goes with the group.
        killGroup('SIGKILL');
      },
    };
  }
}

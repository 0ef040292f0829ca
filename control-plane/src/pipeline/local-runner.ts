import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workerEnv } from '@deploysphere/build-worker/config';
import type { BuildSpec } from '@deploysphere/contracts';
import type { BuildCredentialsSigner } from '@deploysphere/stack/nats-auth';
import type { BuildLimits } from '../config.js';
import type { BuildExit, BuildHandle, BuildRunner } from './build-runner.js';

const WORKER_MAIN = fileURLToPath(import.meta.resolve('@deploysphere/build-worker/main'));
const TSX_LOADER = import.meta.resolve('tsx');
const STOP_GRACE_MS = 5_000;
/**
 * A build's NATS user outlives its time limit by this much. BUILD_TIMEOUT_MS bounds clone,
 * install and build, but not the upload after them, nor flushing the last log batches and events
 * (up to 30 s each). A build past it loses its NATS connection, and its deployment fails.
 */
export const BUILD_CREDENTIALS_MARGIN_MS = 5 * 60_000;

/**
 * Runs the build worker as a local child process, the same program an ECS task runs.
 *
 * - Its environment is built from scratch: the platform's own variables (database URL, admin
 *   token, cloud credentials, the control plane's NATS credentials) never reach it. It gets a
 *   NATS user of its own, minted for this deployment. The worker then runs the user's commands
 *   in bubblewrap with only the project's env.
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
      /** Mints the build's own NATS user, allowed only its deployment's subjects. */
      signer: Pick<BuildCredentialsSigner, 'mintBuildCredentials'>;
      natsTlsCaFile?: string;
      limits: BuildLimits;
      path?: string;
    },
  ) {}

  async start(spec: BuildSpec): Promise<BuildHandle> {
    const { limits } = this.opts;
    await mkdir(limits.workDir, { recursive: true });
    const credentials = await this.opts.signer.mintBuildCredentials(
      spec.deploymentId,
      limits.timeoutMs + BUILD_CREDENTIALS_MARGIN_MS,
    );
    const logFile = await open(join(limits.workDir, `${spec.deploymentId}.worker.log`), 'a');
    const env: Record<string, string> = {
      PATH: this.opts.path ?? '/usr/local/bin:/usr/bin:/bin',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...workerEnv({
        spec,
        natsUrl: this.opts.natsUrl,
        natsCredentials: credentials,
        natsTlsCaFile: this.opts.natsTlsCaFile,
        settings: {
          ...limits,
          // Several heartbeats per timeout window, so one late beat never fails a healthy build.
          heartbeatIntervalMs: Math.max(250, Math.floor(limits.heartbeatTimeoutMs / 4)),
        },
      }),
    };
    const child = spawn(process.execPath, ['--import', TSX_LOADER, WORKER_MAIN], {
      env,
      cwd: limits.workDir,
      detached: true,
      stdio: ['ignore', logFile.fd, logFile.fd],
    });
    // The child holds its own copy of the descriptor.
    await logFile.close();
    const exited = new Promise<BuildExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });

    const killGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    return {
      deploymentId: spec.deploymentId,
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

import { mkdir, mkdtemp, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import type { BuildSpec, BuildStats, DeploymentPhase } from '@deploysphere/contracts';
import { BuildError } from './build-error.js';
import type { BuildSettings } from './config.js';
import { createEgressPolicy } from './egress/egress-policy.js';
import { startEgressProxy, type EgressProxy } from './egress/egress-proxy.js';
import { BuildReporter, type EventSink } from './events.js';
import { cloneRepo } from './git.js';
import type { LogSink } from './log-sink.js';
import { SecretMasker, secretsFromEnv } from './secret-masker.js';
import { assertRelativePath, collectOutputFiles, detectOutputDir } from './output-dir.js';
import { findBwrap, runInSandbox, type SandboxCommand } from './sandbox.js';
import { parseHeaders, parseRedirects } from './site-rules.js';
import { buildManifest, hashFiles, uploadDeployment } from './upload.js';

export interface RunBuildOptions {
  settings: BuildSettings;
  events: EventSink;
  logs: LogSink;
  /** Aborting cancels the build: the running command's whole process tree is killed. */
  signal?: AbortSignal;
}

export type BuildResult =
  | { status: 'uploaded'; commitSha: string; outputDir: string; stats: BuildStats }
  | {
      status: 'failed';
      error: string;
      kind: BuildError['kind'];
      phase?: DeploymentPhase | undefined;
      stats: BuildStats;
    }
  | { status: 'cancelled'; stats: BuildStats };

/** Progress events at most this often (the final one always goes out). */
const PROGRESS_INTERVAL_MS = 500;

/**
 * One deployment's build: clone → install → build → upload, reported as events with a gapless
 * seq. Ends with an `uploaded` event (the control plane then switches routes) or a `failed` one
 * with a reason fit for the user. A cancelled build reports `failed` with "Build cancelled".
 * Never throws for build problems: the outcome is the returned result and the last event. It
 * throws only when its events could not be delivered (the sink kept failing for two minutes).
 */
export async function runBuild(spec: BuildSpec, opts: RunBuildOptions): Promise<BuildResult> {
  const { settings, logs } = opts;
  const reporter = new BuildReporter(spec.deploymentId, opts.events, logs);
  const stats: BuildStats = { files: 0, bytes: 0, uploadedBytes: 0, phaseDurationsMs: {} };
  const buildDir = join(settings.workDir, spec.deploymentId);
  const checkoutDir = join(buildDir, 'repo');
  const homeDir = join(buildDir, 'home');
  const deadline = Date.now() + settings.timeoutMs;
  let phaseStarted = Date.now();
  let currentPhase: DeploymentPhase | undefined;
  let egress: EgressProxy | undefined;

  const enterPhase = async (phase: DeploymentPhase) => {
    endPhase();
    currentPhase = phase;
    phaseStarted = Date.now();
    logs.write('system', `--- ${phase} ---`);
    await reporter.emit({ type: 'phase', phase });
  };
  const endPhase = () => {
    if (currentPhase) stats.phaseDurationsMs[currentPhase] = Date.now() - phaseStarted;
    currentPhase = undefined;
  };
  const remaining = (phase: DeploymentPhase) => {
    const ms = deadline - Date.now();
    if (ms <= 0) {
      throw new BuildError(
        'timeout',
        'The build exceeded its time limit (BUILD_TIMEOUT_MS) and was stopped.',
        { phase },
      );
    }
    return ms;
  };
  const cancelled = () => {
    if (opts.signal?.aborted) throw new BuildError('cancelled', 'Build cancelled');
  };

  try {
    await reporter.emit({ type: 'started' });
    reporter.startHeartbeat(settings.heartbeatIntervalMs);
    if (spec.rootDir) assertRelativePath(spec.rootDir, 'rootDir');
    if (spec.outputDir) assertRelativePath(spec.outputDir, 'outputDir');

    const bwrapPath = findBwrap(settings.bwrapPath);
    let mode: SandboxCommand['mode'];
    if (bwrapPath) {
      mode = { kind: 'bwrap', bwrapPath };
    } else if (settings.allowUnsandboxed) {
      mode = { kind: 'none' };
      const warning =
        'WARNING: bubblewrap (bwrap) is not installed and ALLOW_UNSANDBOXED_BUILDS is on: this build runs UNSANDBOXED, with a clean environment and resource limits only. Never allow this for untrusted code.';
      logs.write('system', warning);
      process.emitWarning(warning);
    } else {
      throw new BuildError(
        'sandbox_unavailable',
        'Builds need bubblewrap (bwrap), which is not installed on this worker. Install it, or set ALLOW_UNSANDBOXED_BUILDS=true for trusted local development only.',
      );
    }

    await rm(buildDir, { recursive: true, force: true });
    await mkdir(homeDir, { recursive: true });

    // clone
    await enterPhase('clone');
    const { commitSha } = await cloneRepo({
      repoUrl: spec.repoUrl,
      gitRef: spec.gitRef,
      dest: checkoutDir,
      logs,
      signal: opts.signal,
      timeoutMs: remaining('clone'),
    });
    await reporter.emit({ type: 'commit', commitSha });
    cancelled();

    // install, build
    const workdir = spec.rootDir
      ? spec.rootDir
          .replace(/\\/g, '/')
          .replace(/^\.\/+/, '')
          .replace(/\/+$/, '')
      : '';
    const projectDir = workdir ? join(checkoutDir, workdir) : checkoutDir;
    await assertProjectDir(checkoutDir, projectDir, workdir);
    if (mode.kind === 'bwrap') egress = await startBuildEgress(logs);
    for (const [phase, command] of [
      ['install', spec.installCommand],
      ['build', spec.buildCommand],
    ] as const) {
      await enterPhase(phase);
      if (command.trim() === '') {
        logs.write('system', `No ${phase} command; skipping`);
        continue;
      }
      logs.write('system', `Running: ${command}`);
      await runInSandbox({
        command,
        checkoutDir,
        homeDir,
        workdir,
        env: spec.env,
        limits: { timeoutMs: remaining(phase), memoryMb: settings.memoryMb, cpuSeconds: settings.cpuSeconds },
        logs,
        signal: opts.signal,
        mode,
        label: phase,
        egress,
      });
      cancelled();
    }

    // upload
    await enterPhase('upload');
    const output = await detectOutputDir(checkoutDir, projectDir, spec.outputDir);
    logs.write('system', `Output directory: ${output.relative}`);
    const files = await collectOutputFiles(
      checkoutDir,
      output,
      { maxBytes: settings.maxOutputBytes, maxFiles: settings.maxOutputFiles },
      logs,
    );
    const report = (message: string) => logs.write('system', `Ignored: ${message}`);
    const redirects = parseRedirects(await readOptional(join(output.absolute, '_redirects')), report);
    const headers = parseHeaders(await readOptional(join(output.absolute, '_headers')), report);
    const hashed = await hashFiles(files);
    stats.files = hashed.length;
    stats.bytes = hashed.reduce((sum, f) => sum + f.size, 0);
    const manifest = buildManifest({
      deploymentId: spec.deploymentId,
      createdAt: new Date().toISOString(),
      files: hashed,
      redirects,
      headers,
    });
    let lastProgress = 0;
    const result = await uploadDeployment({
      targets: spec.storage,
      files: hashed,
      manifest,
      concurrency: settings.uploadConcurrency,
      knownDeployments: spec.previousDeployments,
      logs,
      signal: opts.signal,
      onProgress: (uploadedBytes, totalBytes) => {
        stats.uploadedBytes = uploadedBytes;
        const now = Date.now();
        if (uploadedBytes < totalBytes && now - lastProgress < PROGRESS_INTERVAL_MS) return;
        lastProgress = now;
        void reporter.emit({ type: 'progress', uploadedBytes, totalBytes }).catch(() => undefined);
      },
    });
    stats.uploadedBytes = result.uploadedBytes;
    endPhase();
    logs.write(
      'system',
      `Uploaded ${result.uploadedBlobs} blobs (${result.uploadedBytes} bytes) for ${stats.files} files (${stats.bytes} bytes) to ${spec.storage.length} region(s)`,
    );
    reporter.stopHeartbeat();
    await reporter.emit({ type: 'uploaded', outputDir: output.relative, stats });
    return { status: 'uploaded', commitSha, outputDir: output.relative, stats };
  } catch (err) {
    endPhase();
    reporter.stopHeartbeat();
    const buildError =
      err instanceof BuildError
        ? err
        : opts.signal?.aborted
          ? new BuildError('cancelled', 'Build cancelled')
          : new BuildError(
              'upload_failed',
              `Internal build worker error: ${err instanceof Error ? err.message : String(err)}`,
              {
                cause: err,
              },
            );
    const kind = opts.signal?.aborted ? 'cancelled' : buildError.kind;
    // The message can quote the command's last output lines: mask the project's secrets, since it
    // is stored on the deployment and shown in status events.
    const message =
      kind === 'cancelled'
        ? 'Build cancelled'
        : new SecretMasker(secretsFromEnv(spec.env)).mask(buildError.message);
    logs.write('system', `Build failed: ${message}`);
    await reporter.emit({ type: 'failed', error: truncateError(message) }).catch(() => undefined);
    if (kind === 'cancelled') return { status: 'cancelled', stats };
    return { status: 'failed', error: message, kind, phase: buildError.phase, stats };
  } finally {
    await closeBuildEgress(egress);
    await reporter.close();
    if (!settings.keepWorkDir) await rm(buildDir, { recursive: true, force: true }).catch(() => undefined);
    // The outcome never reached the control plane: say so loudly rather than return quietly.
    // eslint-disable-next-line no-unsafe-finally
    if (reporter.undeliverable) throw reporter.undeliverable;
  }
}

/**
 * The install and build commands reach the internet only through this proxy. Its socket lives in
 * a short private directory of its own: Unix socket paths are limited to 108 bytes, and the build
 * directory's path is the operator's to choose.
 */
async function startBuildEgress(logs: LogSink): Promise<EgressProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'ds-egress-'));
  return startEgressProxy({ socketPath: join(dir, 'egress.sock'), policy: createEgressPolicy(), logs });
}

async function closeBuildEgress(egress: EgressProxy | undefined): Promise<void> {
  if (!egress) return;
  await egress.close();
  await rm(join(egress.socketPath, '..'), { recursive: true, force: true });
}

/** rootDir must be a directory of the checkout (a symlink out of it is refused). */
async function assertProjectDir(checkoutDir: string, projectDir: string, workdir: string): Promise<void> {
  if (!workdir) return;
  const problem = () =>
    new BuildError('invalid_input', `rootDir "${workdir}" is not a directory in the repository`, {
      phase: 'install',
    });
  let real: string;
  try {
    real = await realpath(projectDir);
    if (!(await stat(real)).isDirectory()) throw problem();
  } catch (err) {
    throw err instanceof BuildError ? err : problem();
  }
  const rel = relative(await realpath(checkoutDir), real);
  if (rel.startsWith('..') || isAbsolute(rel)) throw problem();
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

/** The event schema caps errors at 8 KiB: keep the head and the tail (where the last lines are). */
function truncateError(message: string): string {
  const max = 8000;
  if (message.length <= max) return message;
  return `${message.slice(0, 2000)}\n...\n${message.slice(-(max - 2010))}`;
}

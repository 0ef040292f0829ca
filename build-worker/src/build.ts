import { lstat, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import {
  cacheBranches,
  type BuildSpec,
  type BuildStats,
  type DeploymentPhase,
} from '@deploysphere/contracts';
import { BuildError, WorkerInterrupted } from './build-error.js';
import type { BuildSettings } from './config.js';
import { createEgressPolicy } from './egress/egress-policy.js';
import { startEgressProxy, type EgressProxy } from './egress/egress-proxy.js';
import { BuildReporter, type EventSink } from './events.js';
import { cloneRepo } from './git.js';
import { fetchSourceArchive } from './source-archive.js';
import { ignoredBuildStep } from './ignored-build-step.js';
import type { LogSink } from './log-sink.js';
import { SecretMasker, secretsFromEnv } from './secret-masker.js';
import { assertRelativePath, collectOutputFiles, detectOutputDir } from './output-dir.js';
import type { BuildGrants } from './grants/build-grants.js';
import {
  requestSaveGrant,
  restoreCache,
  saveCache,
  type CacheContext,
  type CacheLayout,
  type SaveResult,
} from './build-cache/build-cache.js';
import { cacheKey } from './build-cache/cache-key.js';
import type { CacheMeta } from './build-cache/cache-store.js';
import { npmTreeMatchesLockfile } from './presets/installed-check.js';
import { planBuild, show, toolInstall, type BuildPlan, type PlannedCommand } from './presets/build-plan.js';
import { runProcess } from './run-process.js';
import { findBwrap, runInSandbox, SANDBOX_HOME, unprivilegedMode, type SandboxMode } from './sandbox.js';
import { parseHeaders, parseRedirects } from './site-rules.js';
import { buildManifest, hashFiles, uploadDeployment } from './upload.js';

export interface RunBuildOptions {
  settings: BuildSettings;
  events: EventSink;
  logs: LogSink;
  /**
   * Presigned requests for the build's uploads and cache: from the control plane with the build
   * token (ControlPlaneGrants), or an in-process issuer in tests. The worker holds no S3 credentials.
   */
  grants: BuildGrants;
  /** The seq of the first event (the bootstrap's firstEventSeq); 1 by default. */
  firstEventSeq?: number;
  /** Aborting cancels the build: the running command's whole process tree is killed. */
  signal?: AbortSignal;
}

export type BuildResult =
  | {
      status: 'uploaded';
      commitSha: string;
      outputDir: string;
      stats: BuildStats;
      /**
       * The build cache's save, which runs after the `uploaded` event (the deployment goes ready
       * without waiting for it). The CLI awaits it before exiting; it never rejects.
       */
      cacheSave: Promise<SaveResult | null>;
    }
  | {
      status: 'failed';
      error: string;
      kind: BuildError['kind'];
      phase?: DeploymentPhase | undefined;
      stats: BuildStats;
    }
  | { status: 'cancelled'; stats: BuildStats }
  /** The ignored build step exited 0: reported `skipped`, nothing uploaded. */
  | { status: 'skipped'; reason: string; commitSha: string; stats: BuildStats }
  /** Stopped by a signal to the worker (WorkerInterrupted): no outcome was reported. */
  | { status: 'interrupted'; signal: NodeJS.Signals; stats: BuildStats };

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
  const reporter = new BuildReporter(spec.deploymentId, opts.events, logs, undefined, opts.firstEventSeq);
  const stats: BuildStats = { files: 0, bytes: 0, uploadedBytes: 0, phaseDurationsMs: {} };
  const buildDir = join(settings.workDir, spec.deploymentId);
  const checkoutDir = join(buildDir, 'repo');
  const homeDir = join(buildDir, 'home');
  const deadline = Date.now() + settings.timeoutMs;
  let phaseStarted = Date.now();
  let currentPhase: DeploymentPhase | undefined;
  let egress: EgressProxy | undefined;
  /** Set once the cache save runs: it owns the build directory's removal from then on. */
  let cacheSave: Promise<SaveResult | null> | undefined;

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

    const mode = sandboxMode(settings, logs);
    await rm(buildDir, { recursive: true, force: true });
    await mkdir(homeDir, { recursive: true });

    // clone: the repository, or a CLI source deploy's archive (source-archive.ts), which has no
    // commit; everything after this step is the same for both.
    await enterPhase('clone');
    let commitSha = '';
    if (spec.source?.kind === 'archive') {
      const fetched = await fetchSourceArchive({
        source: spec.source,
        dest: checkoutDir,
        scratchDir: join(buildDir, 'source'),
        logs,
        signal: opts.signal,
        sandbox:
          mode.kind === 'bwrap'
            ? {
                mode,
                homeDir,
                limits: {
                  timeoutMs: remaining('clone'),
                  memoryMb: settings.memoryMb,
                  cpuSeconds: settings.cpuSeconds,
                },
              }
            : undefined,
      });
      stats.cloneBytes = fetched.bytes;
    } else {
      ({ commitSha } = await cloneRepo({
        repoUrl: spec.repoUrl,
        gitRef: spec.gitRef,
        dest: checkoutDir,
        logs,
        signal: opts.signal,
        timeoutMs: remaining('clone'),
        sparseDir: spec.rootDir ? normalizeRootDir(spec.rootDir) : null,
        credential: spec.gitCredential ?? null,
      }));
      await reporter.emit({ type: 'commit', commitSha });
      stats.cloneBytes = await directorySize(join(checkoutDir, '.git'));
      logs.write('system', `Clone: ${formatBytes(stats.cloneBytes)} fetched`);
    }
    cancelled();

    // install, build
    const workdir = spec.rootDir ? normalizeRootDir(spec.rootDir) : '';
    const projectDir = workdir ? join(checkoutDir, workdir) : checkoutDir;
    await assertProjectDir(checkoutDir, projectDir, workdir);
    if (mode.kind === 'bwrap') egress = await startBuildEgress(logs);

    // The ignored build step: the user's own command, in the same sandbox as install and build,
    // before anything is installed or restored. Exit 0 ends the build here, skipped.
    if (spec.ignoreCommand) {
      const verdict = await ignoredBuildStep(
        spec.ignoreCommand,
        (command) =>
          runInSandbox({
            command,
            checkoutDir,
            homeDir,
            workdir,
            env: spec.env,
            limits: {
              timeoutMs: remaining('clone'),
              memoryMb: settings.memoryMb,
              cpuSeconds: settings.cpuSeconds,
            },
            logs,
            signal: opts.signal,
            mode,
            label: 'ignored build step',
            egress,
            extraEnv: ignoreStepEnv(spec, commitSha),
          }),
        logs,
      );
      cancelled();
      if (verdict.skip) {
        endPhase();
        reporter.stopHeartbeat();
        // The reason quotes the command, which is stored on the deployment: mask as errors are.
        const reason = new SecretMasker(secretsFromEnv(spec.env)).mask(verdict.reason).slice(0, 1024);
        await reporter.emit({ type: 'skipped', reason, stats });
        return { status: 'skipped', reason, commitSha, stats };
      }
    }

    const plan = await planBuild(spec, checkoutDir, workdir);
    logPlan(plan, logs);

    // install: the cache first (part of the phase, so a warm install's cost is all there)
    await enterPhase('install');
    // A build that runs nothing (a folder of HTML) has nothing to cache.
    const runsSomething = plan.install(false) !== null || plan.build !== null;
    const cacheCtx: CacheSetup = runsSomething
      ? await cacheContext(spec, settings, plan, checkoutDir, workdir, logs, opts.grants)
      : { skip: 'nothing', ctx: null };
    const layout: CacheLayout = { buildDir, repoCaches: plan.repoCaches, modules: plan.modules };
    let warm = false;
    let reuse: CacheMeta | null = null;
    if (cacheCtx.skip === 'nothing') {
      logs.write('system', 'Build cache: not used (no install or build command)');
    } else if (cacheCtx.skip) {
      stats.cache = { restored: 'none', skipped: cacheCtx.skip };
      logs.write(
        'system',
        `Build cache: ${cacheCtx.skip === 'disabled' ? 'disabled for this project' : 'skipped (deploy without cache)'}`,
      );
    } else {
      const restored = await restoreCache(cacheCtx.ctx, layout, plan.preset.packageManager?.id !== 'npm');
      warm = restored.exact;
      reuse = restored.reuse;
      stats.cache = restored.report;
    }
    if (cacheCtx.ctx && stats.cache) stats.cache = { ...stats.cache, saveKey: cacheCtx.ctx.key };
    // Unprivileged: the checkout (with what the cache restored) and the home become the build
    // user's, the only files it may write.
    if (mode.kind === 'unprivileged') await giveToBuildUser([checkoutDir, homeDir], mode);
    stats.preset = plan.report(warm);
    cancelled();

    const sandboxed = (command: PlannedCommand & object, phase: 'install' | 'build', pathPrefix: string[]) =>
      runInSandbox({
        command: command.kind === 'project' ? command.command : { argv: command.argv },
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
        pathPrefix,
      });
    const install = plan.install(warm);
    const pathPrefix: string[] = [];
    const pm = plan.preset.packageManager;
    const tool = pm ? toolInstall(pm, mode.kind === 'bwrap' ? SANDBOX_HOME : homeDir) : null;
    if (tool && (install || plan.build)) {
      pathPrefix.push(tool.binDir);
      const hostBin = join(
        homeDir,
        tool.binDir.slice((mode.kind === 'bwrap' ? SANDBOX_HOME : homeDir).length),
      );
      if (await isPresent(hostBin)) {
        logs.write('system', `Using ${pm!.toolPackage}@${pm!.toolVersion} from the build cache`);
      } else {
        logs.write(
          'system',
          `Installing ${pm!.toolPackage}@${pm!.toolVersion} from the npm registry into the build's home`,
        );
        await sandboxed({ kind: 'preset', argv: tool.argv }, 'install', []);
      }
    }
    for (const [phase, command] of [
      ['install', install],
      ['build', plan.build],
    ] as const) {
      if (phase === 'build') await enterPhase('build');
      if (!command) {
        logs.write('system', `No ${phase} command; skipping`);
        continue;
      }
      if (
        phase === 'install' &&
        warm &&
        command.kind === 'preset' &&
        (await npmTreeIsCurrent(plan, checkoutDir))
      ) {
        // The fast check of an exact cache hit: node_modules is what this lockfile installs.
        logs.write(
          'system',
          'Install: node_modules from the build cache matches package-lock.json (same packages, versions and integrity); npm is not run',
        );
        stats.preset = { ...stats.preset!, installCommand: '' };
        continue;
      }
      logs.write('system', `Running: ${show(command)}`);
      await sandboxed(command, phase, pathPrefix);
      cancelled();
    }

    // upload
    await enterPhase('upload');
    const output = await detectOutputDir(
      checkoutDir,
      projectDir,
      spec.outputDir !== null ||
        (plan.outputDir !== null && (await isPresent(join(projectDir, plan.outputDir))))
        ? plan.outputDir
        : null,
    );
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
      grants: opts.grants,
      files: hashed,
      manifest,
      concurrency: settings.uploadConcurrency,
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
    // The save's grant is asked for now: once `uploaded` is applied the deployment is no longer
    // building, and the control plane refuses this build's token.
    const saveGrant = cacheCtx.ctx && !opts.signal?.aborted ? await requestSaveGrant(cacheCtx.ctx) : null;
    reporter.stopHeartbeat();
    await reporter.emit({ type: 'uploaded', outputDir: output.relative, stats });
    // The save starts only now, off the critical path: the deployment is already reported.
    const saving: Promise<SaveResult | null> =
      cacheCtx.ctx && saveGrant && !opts.signal?.aborted
        ? saveCache(cacheCtx.ctx, layout, reuse, saveGrant).catch(() => null)
        : Promise.resolve(null);
    cacheSave = saving.finally(async () => {
      if (!settings.keepWorkDir) await rm(buildDir, { recursive: true, force: true }).catch(() => undefined);
    });
    return { status: 'uploaded', commitSha, outputDir: output.relative, stats, cacheSave };
  } catch (err) {
    endPhase();
    reporter.stopHeartbeat();
    const interrupted = opts.signal?.reason;
    if (opts.signal?.aborted && interrupted instanceof WorkerInterrupted) {
      logs.write(
        'system',
        `Build interrupted (${interrupted.signal}): the platform decides what happens next`,
      );
      return { status: 'interrupted', signal: interrupted.signal, stats };
    }
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
    await reporter.emit({ type: 'failed', error: truncateError(message), stats }).catch(() => undefined);
    if (kind === 'cancelled') return { status: 'cancelled', stats };
    return { status: 'failed', error: message, kind, phase: buildError.phase, stats };
  } finally {
    await closeBuildEgress(egress);
    await reporter.close();
    if (!settings.keepWorkDir && !cacheSave)
      await rm(buildDir, { recursive: true, force: true }).catch(() => undefined);
    // The outcome never reached the control plane: say so loudly rather than return quietly.
    // eslint-disable-next-line no-unsafe-finally
    if (reporter.undeliverable) throw reporter.undeliverable;
  }
}

/**
 * What the ignored build step is told besides the project's env: the commit the clone checked
 * out and, when the deployment knows it, the pushed branch. git may read the checkout though the
 * sandbox's user does not own it (safe.directory), so `git diff`/`git log` work in the step.
 */
function ignoreStepEnv(spec: BuildSpec, commitSha: string): Record<string, string> {
  return {
    DEPLOYSPHERE_GIT_COMMIT_SHA: commitSha,
    ...(spec.gitBranch ? { DEPLOYSPHERE_GIT_BRANCH: spec.gitBranch } : {}),
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'safe.directory',
    GIT_CONFIG_VALUE_0: '*',
  };
}

/** How this worker isolates user commands (BUILD_SANDBOX), or why it cannot build. */
function sandboxMode(settings: BuildSettings, logs: LogSink): SandboxMode {
  if (settings.sandbox === 'unprivileged') {
    const unprivileged = unprivilegedMode();
    if ('mode' in unprivileged) return unprivileged.mode;
    throw new BuildError(
      'sandbox_unavailable',
      `BUILD_SANDBOX=unprivileged cannot run on this worker: ${unprivileged.problem}.`,
    );
  }
  const bwrapPath = findBwrap(settings.bwrapPath);
  if (bwrapPath) return { kind: 'bwrap', bwrapPath };
  if (settings.allowUnsandboxed) {
    const warning =
      'WARNING: bubblewrap (bwrap) is not installed and ALLOW_UNSANDBOXED_BUILDS is on: this build runs UNSANDBOXED, with a clean environment and resource limits only. Never allow this for untrusted code.';
    logs.write('system', warning);
    process.emitWarning(warning);
    return { kind: 'none' };
  }
  throw new BuildError(
    'sandbox_unavailable',
    'Builds need bubblewrap (bwrap), which is not installed on this worker. Install it, or set ALLOW_UNSANDBOXED_BUILDS=true for trusted local development only.',
  );
}

/** chown -R (symlinks themselves, never their targets) to the unprivileged build user. */
async function giveToBuildUser(dirs: string[], mode: { uid: number; gid: number }): Promise<void> {
  const result = await runProcess('chown', ['-R', '-h', `${mode.uid}:${mode.gid}`, '--', ...dirs], {
    env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
  });
  if (result.code !== 0) {
    throw new BuildError(
      'sandbox_unavailable',
      `Could not hand the checkout to the build user: ${result.tail.join(' | ')}`,
    );
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

/** What the log says about the plan: the preset and why, the commands and where they came from. */
function logPlan(plan: BuildPlan, logs: LogSink): void {
  logs.write('system', `Preset: ${plan.preset.name} (${plan.preset.reason})`);
  for (const note of plan.preset.notes) logs.write('system', `Note: ${note}`);
  const node = plan.node;
  if (node.requested) {
    if (node.satisfied === false)
      logs.write(
        'system',
        `WARNING: the project asks for Node ${node.requested}, which this worker cannot honour: it has Node ${node.running} only. Building with Node ${node.running}.`,
      );
    else if (node.satisfied === null)
      logs.write(
        'system',
        `Node: the project asks for ${node.requested}; building with Node ${node.running} (could not check the request)`,
      );
    else logs.write('system', `Node: ${node.running} (satisfies ${node.requested})`);
  }
  logs.write('system', `Output directory (expected): ${plan.outputDir ?? 'detected after the build'}`);
}

type CacheSetup =
  | { skip: 'disabled' | 'nothing'; ctx: null }
  | { skip: 'without-cache'; ctx: CacheContext }
  | { skip: null; ctx: CacheContext };

async function cacheContext(
  spec: BuildSpec,
  settings: BuildSettings,
  plan: BuildPlan,
  checkoutDir: string,
  workdir: string,
  logs: LogSink,
  grants: BuildGrants,
): Promise<CacheSetup> {
  if (spec.cache?.enabled === false) return { skip: 'disabled', ctx: null };
  const { key, exactAllowed } = await cacheKey(checkoutDir, {
    lockfile: plan.lockfile,
    packageManager: plan.preset.packageManager?.id ?? null,
    workdir,
  });
  const ctx: CacheContext = {
    project: spec.projectSlug,
    grants,
    key,
    exactAllowed,
    ...cacheBranches(spec),
    expiryDays: settings.cacheExpiryDays,
    maxBytes: settings.cacheMaxBytes,
    logs,
  };
  return spec.cache?.restore === false ? { skip: 'without-cache', ctx } : { skip: null, ctx };
}

async function isPresent(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Bytes under a directory (the clone's .git), not following symlinks. */
async function directorySize(dir: string): Promise<number> {
  let total = 0;
  try {
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) total += (await lstat(join(entry.parentPath, entry.name))).size;
    }
  } catch {
    // gone or unreadable: report what was counted
  }
  return total;
}

function formatBytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function normalizeRootDir(rootDir: string): string {
  return rootDir
    .replace(/\\/g, '/')
    .replace(/^\.\/+/, '')
    .replace(/\/+$/, '');
}

async function npmTreeIsCurrent(plan: BuildPlan, checkoutDir: string): Promise<boolean> {
  const pm = plan.preset.packageManager;
  if (pm?.id !== 'npm' || !plan.lockfile || !/(^|\/)(package-lock|npm-shrinkwrap)\.json$/.test(plan.lockfile))
    return false;
  const lockfile = join(checkoutDir, plan.lockfile);
  return npmTreeMatchesLockfile(dirname(lockfile), lockfile);
}

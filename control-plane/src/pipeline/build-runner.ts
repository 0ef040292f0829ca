import type { ResourceUsage } from '@deploysphere/stack';

export interface BuildExit {
  code: number | null;
  signal: string | null;
  /** Why it stopped, when the runner knows (e.g. an ECS stoppedReason). */
  reason?: string;
  /** CPU and peak memory of the build's processes, when the runner measured them (locally). */
  resources?: ResourceUsage;
  /**
   * This control plane let go of a build that runs on without it (release()): the build has not
   * ended, and another control plane follows it from here.
   */
  released?: boolean;
}

/** What a runner needs to start one build; the worker exchanges the token for its spec. */
export interface BuildLaunch {
  deploymentId: string;
  projectSlug: string;
  region: string;
  /** 1 for the first start */
  attempt: number;
  bootstrapToken: string;
}

/** One build started by a runner. */
export interface BuildHandle {
  readonly deploymentId: string;
  /** Settles when the build's process (or task) has ended. */
  readonly exited: Promise<BuildExit>;
  /** Stops the build and everything it started; resolves once it has ended. */
  stop(): Promise<void>;
  /**
   * For a build that runs elsewhere (an ECS task): stop following it and leave it running, so
   * another control plane can adopt it. `exited` settles at once with `released`. A build that
   * lives in this process (a local worker) has no release: it ends with its control plane.
   */
  release?(): void;
}

/**
 * Where builds run: `LocalRunner` starts the build worker as a local process; an ECS runner
 * starts the same worker as an ECS task. The dispatcher only knows this interface. A runner hands
 * the worker only its deployment id, the NATS and control-plane URLs and the bootstrap token (plus
 * static settings); the worker exchanges the token for everything else (build-sessions/).
 */
export interface BuildRunner {
  readonly name: string;
  start(launch: BuildLaunch): Promise<BuildHandle>;
}

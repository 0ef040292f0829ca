import { join } from 'node:path';
import { messageOf } from './errors.js';
import { DEFAULT_STOP_TIMEOUT_SECONDS } from './task-definitions.js';
import { sampleProcessTree } from '../process-tree-usage.js';
import { launchTaskProcess } from './task-process.js';
import { SPOT_INTERRUPTION_REASON, type EcsTask, type StopCode } from './task.js';

export interface ContainerLaunch {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Set when an armed Spot interruption applies to this task: how long after RUNNING it hits. */
  interruptSpotAfterMs?: number;
}

/**
 * Runs tasks' container processes and moves tasks through their states: PROVISIONING until the
 * process has spawned, RUNNING, then STOPPED when it exits. Stopping is what ECS does to a
 * container: SIGTERM to the group, SIGKILL after the definition's stopTimeout.
 */
export class TaskRunner {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly killTimers = new Map<EcsTask, NodeJS.Timeout>();
  private readonly interruptTimers = new Set<NodeJS.Timeout>();
  private readonly live = new Set<EcsTask>();
  private closed = false;

  constructor(private readonly logDir: string) {}

  /** Starts the task's process in the background; RunTask answers while it is PROVISIONING. */
  start(task: EcsTask, launch: ContainerLaunch): void {
    this.track(
      this.launch(task, launch).catch((err: unknown) => {
        if (!task.process && task.lastStatus !== 'STOPPED') task.markFailedToStart(messageOf(err));
      }),
    );
  }

  /**
   * Asks the task to stop (StopTask, Spot interruption). The first stop request decides the
   * stopCode; a later one changes nothing. Does not wait: await `task.stopped` for that.
   */
  requestStop(task: EcsTask, stopCode: StopCode, reason: string): void {
    if (task.lastStatus === 'STOPPED') return;
    if (task.requestStop(stopCode, reason) && task.process) this.terminate(task);
  }

  /** A Spot interruption: SIGTERM now, SIGKILL after stopTimeout, stopCode SpotInterruption. */
  interruptSpot(task: EcsTask): Promise<void> {
    this.requestStop(task, 'SpotInterruption', SPOT_INTERRUPTION_REASON);
    return task.stopped;
  }

  /** The container dies: SIGKILL to the group, and the task stops as a container exit. */
  async kill(task: EcsTask): Promise<void> {
    // A task killed right after RunTask is still spawning: the container dies once it exists.
    await task.leftProvisioning;
    if (task.lastStatus === 'STOPPED') return;
    task.process!.signalGroup('SIGKILL');
    await task.stopped;
  }

  /** Kills every task process still running and waits until all of them have exited. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.interruptTimers) clearTimeout(timer);
    this.interruptTimers.clear();
    for (const task of this.live) task.process?.signalGroup('SIGKILL');
    // Launches still in flight see `closed` and kill what they spawned; their exit watchers are
    // tracked too, so loop until nothing is left.
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async launch(task: EcsTask, launch: ContainerLaunch): Promise<void> {
    const result = await launchTaskProcess({
      argv: launch.argv,
      env: launch.env,
      cwd: launch.cwd,
      logFile: join(this.logDir, `${task.id}.log`),
    });
    if (!result.ok) {
      task.markFailedToStart(result.reason);
      return;
    }
    const proc = result.process;
    task.usage = sampleProcessTree(proc.pid);
    task.markRunning(proc);
    this.live.add(task);
    this.track(
      proc.exited.then((exit) => {
        clearTimeout(this.killTimers.get(task));
        this.killTimers.delete(task);
        this.live.delete(task);
        task.usage?.stop();
        task.markExited(exit);
      }),
    );
    if (this.closed) {
      proc.signalGroup('SIGKILL');
    } else if (task.desiredStatus === 'STOPPED') {
      // StopTask came while the task was still provisioning.
      this.terminate(task);
    } else if (launch.interruptSpotAfterMs !== undefined) {
      const timer = setTimeout(() => {
        this.interruptTimers.delete(timer);
        void this.interruptSpot(task);
      }, launch.interruptSpotAfterMs);
      this.interruptTimers.add(timer);
    }
  }

  private terminate(task: EcsTask): void {
    const proc = task.process;
    if (!proc || this.killTimers.has(task)) return;
    proc.signalGroup('SIGTERM');
    const graceMs = (task.init.definition.stopTimeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS) * 1000;
    this.killTimers.set(
      task,
      setTimeout(() => proc.signalGroup('SIGKILL'), graceMs),
    );
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise);
    const forget = () => this.inFlight.delete(promise);
    promise.then(forget, forget);
  }
}

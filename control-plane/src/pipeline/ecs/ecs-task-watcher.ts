import { DescribeTasksCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs';
import type { FastifyBaseLogger } from 'fastify';

/** How an ECS task ended, as DescribeTasks tells it. */
export interface StoppedTask {
  taskArn: string;
  /** The build worker container's exit code; null when it never ran or ECS lost it. */
  exitCode: number | null;
  /** e.g. EssentialContainerExited, UserInitiated, SpotInterruption, TaskFailedToStart */
  stopCode: string | null;
  stoppedReason: string | null;
  /** The container's own reason, e.g. "OutOfMemoryError: Container killed due to memory usage". */
  containerReason: string | null;
}

/** DescribeTasks takes at most 100 tasks per call. */
const BATCH = 100;

interface Watched {
  resolve(stopped: StoppedTask): void;
  promise: Promise<StoppedTask>;
}

/**
 * One region's poller: every task a build runs in is watched here, and one DescribeTasks per
 * hundred tasks per round tells which have stopped. ECS has no push notification a control plane
 * can receive without more infrastructure (EventBridge), and polling a few dozen tasks every few
 * seconds is far inside DescribeTasks' rate limits. Failed rounds back off, up to maxIntervalMs,
 * so a throttled or unreachable API is not hammered; the first good round resets the interval.
 */
export class EcsTaskWatcher {
  private readonly watched = new Map<string, Watched>();
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly deps: {
      client: ECSClient;
      cluster: string;
      containerName: string;
      log: FastifyBaseLogger;
      intervalMs: number;
      maxIntervalMs: number;
    },
  ) {}

  /** Settles when the task has stopped; the same promise for every caller of one task. */
  watch(taskArn: string): Promise<StoppedTask> {
    const existing = this.watched.get(taskArn);
    if (existing) return existing.promise;
    let resolve!: (s: StoppedTask) => void;
    const promise = new Promise<StoppedTask>((r) => (resolve = r));
    this.watched.set(taskArn, { resolve, promise });
    this.wake?.();
    return promise;
  }

  get size(): number {
    return this.watched.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops polling. Tasks still watched stay unsettled: they run on, and a restart adopts them. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let interval = this.deps.intervalMs;
    while (this.running) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, interval);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      if (!this.running || this.watched.size === 0) continue;
      try {
        await this.poll();
        interval = this.deps.intervalMs;
      } catch (err) {
        interval = Math.min(interval * 2, this.deps.maxIntervalMs);
        this.deps.log.warn(
          { err, cluster: this.deps.cluster, retryInMs: interval },
          'DescribeTasks failed; the build tasks are polled again later',
        );
      }
    }
  }

  private async poll(): Promise<void> {
    const arns = [...this.watched.keys()];
    for (let i = 0; i < arns.length; i += BATCH) {
      const res = await this.deps.client.send(
        new DescribeTasksCommand({ cluster: this.deps.cluster, tasks: arns.slice(i, i + BATCH) }),
      );
      for (const task of res.tasks ?? []) {
        if (task.taskArn && task.lastStatus === 'STOPPED') this.settle(task.taskArn, this.describeStop(task));
      }
      // A task ECS no longer knows (stopped more than an hour ago, or never existed), or cannot
      // describe for another reason, is over: waiting on it would hold a build slot forever.
      for (const failure of res.failures ?? []) {
        if (!failure.arn) continue;
        this.settle(failure.arn, {
          taskArn: failure.arn,
          exitCode: null,
          stopCode: null,
          stoppedReason: `ECS cannot describe the task (${failure.reason ?? 'no reason'}${failure.detail ? `: ${failure.detail}` : ''})`,
          containerReason: null,
        });
      }
    }
  }

  private describeStop(task: Task): StoppedTask {
    const container =
      task.containers?.find((c) => c.name === this.deps.containerName) ?? task.containers?.[0];
    return {
      taskArn: task.taskArn!,
      exitCode: container?.exitCode ?? null,
      stopCode: task.stopCode ?? null,
      stoppedReason: task.stoppedReason ?? null,
      containerReason: container?.reason ?? null,
    };
  }

  private settle(taskArn: string, stopped: StoppedTask): void {
    const w = this.watched.get(taskArn);
    if (!w) return;
    this.watched.delete(taskArn);
    w.resolve(stopped);
  }
}

/** One line for the deployment's error: what ECS says, and the worker's exit code. */
export function describeStoppedTask(s: StoppedTask): string {
  const parts = [
    s.stopCode && s.stoppedReason ? `${s.stopCode}: ${s.stoppedReason}` : (s.stoppedReason ?? s.stopCode),
    s.containerReason,
    s.exitCode !== null ? `exit code ${s.exitCode}` : null,
  ].filter((p): p is string => !!p);
  return parts.length > 0 ? parts.join('; ') : 'no reason given';
}

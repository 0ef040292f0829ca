import {
  ConflictException,
  DescribeTasksCommand,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
  type Failure,
  type RunTaskCommandInput,
} from '@aws-sdk/client-ecs';
import type { FastifyBaseLogger } from 'fastify';
import type { BuildExit, BuildHandle, BuildLaunch, BuildRunner } from '../build-runner.js';
import type { EcsRegionSettings } from './ecs-settings.js';
import { describeStoppedTask, type EcsTaskWatcher, type StoppedTask } from './ecs-task-watcher.js';

export type CapacityProvider = 'FARGATE_SPOT' | 'FARGATE';

/** Where one build's task runs, as recorded on its deployment. */
export interface RecordedTask {
  region: string;
  taskArn: string;
  attempt: number;
}

export interface EcsRunnerDeps {
  settings: EcsRegionSettings;
  client: ECSClient;
  watcher: EcsTaskWatcher;
  natsUrl: string;
  log: FastifyBaseLogger;
  /** A fresh one-time bootstrap token, for a restarted attempt (after a Spot interruption). */
  issueBootstrap(deploymentId: string): Promise<string>;
  /** Records the task on the deployment (runnerKind 'ecs', region, task ARN, attempt). */
  recordTask(deploymentId: string, task: RecordedTask): Promise<void>;
  /** Whether the deployment still waits for its build's result; only such a build is restarted. */
  stillBuilding(deploymentId: string): Promise<boolean>;
  /** How long stop() waits for ECS to report the task stopped. ECS's own grace is 30 s. */
  stopDeadlineMs?: number;
}

/** Why a deployment's build task could not be started; the dispatcher fails the deployment with it. */
export class EcsStartError extends Error {}

const STOP_REASON_PREFIX = 'DeploySphere: ';

/**
 * Fargate Spot's capacity failure. ECS words it "Capacity is unavailable at this time…"; the
 * match is loose on purpose, since an unrecognised capacity failure would fail the build outright.
 */
export function isCapacityFailure(f: Failure): boolean {
  return /capacity/i.test(`${f.reason ?? ''} ${f.detail ?? ''}`);
}

/**
 * Runs one region's builds as ECS tasks on Fargate, Spot first.
 *
 * - A task learns only its deployment id, the NATS URL and a one-time bootstrap token from the
 *   overrides (visible to anyone who may DescribeTasks); it exchanges the token for its spec.
 * - `clientToken` is the deployment, the attempt and the capacity provider, so a RunTask retried
 *   after a lost response starts nothing twice; ECS answers ConflictException when the token was
 *   used with other parameters (a new bootstrap token), and the task it names is adopted.
 * - RunTask reports most failures in `failures[]` with HTTP 200. A Spot capacity failure is tried
 *   once more on FARGATE; anything else fails the build with ECS's reason.
 * - A task Spot reclaims mid-build is started once more on FARGATE, with a new bootstrap token.
 */
export class EcsRunner implements BuildRunner {
  readonly name = 'ecs';

  constructor(private readonly deps: EcsRunnerDeps) {}

  get region(): string {
    return this.deps.settings.region;
  }

  async start(launch: BuildLaunch): Promise<BuildHandle> {
    const taskArn = await this.runTask(launch, launch.attempt, ['FARGATE_SPOT', 'FARGATE']);
    return new EcsBuildHandle(this, this.deps, launch, taskArn, launch.attempt, false);
  }

  /**
   * Takes over a build whose task a previous control plane started: the task is found by
   * `startedBy` (the deployment id). Without a running task, the recorded one is described, so
   * the handle ends at once with ECS's stop reason.
   */
  async adopt(
    deploymentId: string,
    recorded: { taskArn: string | null; attempt: number },
  ): Promise<BuildHandle> {
    const { client, settings } = this.deps;
    const listed = await client.send(
      new ListTasksCommand({ cluster: settings.cluster, startedBy: deploymentId, desiredStatus: 'RUNNING' }),
    );
    const running = listed.taskArns ?? [];
    const taskArn =
      running.find((arn) => arn === recorded.taskArn) ?? running[running.length - 1] ?? recorded.taskArn;
    const launch: BuildLaunch = {
      deploymentId,
      projectSlug: '',
      region: settings.region,
      attempt: recorded.attempt,
      bootstrapToken: '',
    };
    if (!taskArn) {
      return endedHandle(deploymentId, {
        code: null,
        signal: null,
        reason: 'the control plane restarted before ECS started the build task',
      });
    }
    // A Spot task adopted after a restart is not restarted: its launch parameters are gone.
    return new EcsBuildHandle(this, this.deps, launch, taskArn, recorded.attempt, true);
  }

  /**
   * Stops every running build task of this cluster whose deployment is already finished (or
   * unknown): a task a crashed control plane started and nobody watches, or one StopTask missed.
   * Returns the ARNs it stopped.
   */
  async sweepOrphans(finished: (deploymentIds: string[]) => Promise<Set<string>>): Promise<string[]> {
    const { client, settings } = this.deps;
    const family = familyOf(settings.taskDefinition);
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new ListTasksCommand({ cluster: settings.cluster, family, desiredStatus: 'RUNNING', nextToken }),
      );
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const owners = new Map<string, string>();
    for (let i = 0; i < arns.length; i += 100) {
      const res = await client.send(
        new DescribeTasksCommand({ cluster: settings.cluster, tasks: arns.slice(i, i + 100) }),
      );
      for (const t of res.tasks ?? []) {
        if (t.taskArn && t.startedBy && t.lastStatus !== 'STOPPED') owners.set(t.taskArn, t.startedBy);
      }
    }
    if (owners.size === 0) return [];
    const done = await finished([...new Set(owners.values())]);
    const stopped: string[] = [];
    for (const [taskArn, deploymentId] of owners) {
      if (!done.has(deploymentId)) continue;
      await this.stopTask(taskArn, 'orphaned build task: its deployment has already finished');
      stopped.push(taskArn);
    }
    return stopped;
  }

  /** StopTask, by ARN: also for a build whose handle this control plane does not hold. */
  async stopTask(taskArn: string, reason: string): Promise<void> {
    await this.deps.client.send(
      new StopTaskCommand({
        cluster: this.deps.settings.cluster,
        task: taskArn,
        reason: (STOP_REASON_PREFIX + reason).slice(0, 255),
      }),
    );
  }

  /** Starts the task on the first provider with capacity; records and returns its ARN. */
  async runTask(launch: BuildLaunch, attempt: number, providers: CapacityProvider[]): Promise<string> {
    const { client, settings, log } = this.deps;
    for (const [i, provider] of providers.entries()) {
      const input = this.runTaskInput(launch, attempt, provider);
      let taskArn: string | undefined;
      try {
        const res = await client.send(new RunTaskCommand(input));
        taskArn = res.tasks?.[0]?.taskArn;
        if (!taskArn) {
          const failure = res.failures?.[0] ?? { reason: 'RunTask returned neither a task nor a failure' };
          const last = i === providers.length - 1;
          if (isCapacityFailure(failure) && !last) {
            log.warn(
              {
                deploymentId: launch.deploymentId,
                region: settings.region,
                provider,
                reason: failure.reason,
              },
              'no Spot capacity for the build task; trying on-demand Fargate',
            );
            continue;
          }
          throw new EcsStartError(
            `ECS could not start the build task on ${provider} in ${settings.region}: ` +
              `${failure.reason ?? 'unknown reason'}${failure.detail ? ` (${failure.detail})` : ''}`,
          );
        }
      } catch (err) {
        if (!(err instanceof ConflictException)) throw err;
        // This clientToken already started a task (with another bootstrap token): adopt it.
        taskArn = err.resourceIds?.[0];
        if (!taskArn) throw err;
        log.warn(
          { deploymentId: launch.deploymentId, taskArn },
          'RunTask conflict: adopting the existing task',
        );
      }
      await this.deps.recordTask(launch.deploymentId, { region: settings.region, taskArn, attempt });
      return taskArn;
    }
    throw new EcsStartError(
      `ECS could not start the build task in ${settings.region}: no capacity provider left`,
    );
  }

  private runTaskInput(
    launch: BuildLaunch,
    attempt: number,
    provider: CapacityProvider,
  ): RunTaskCommandInput {
    const { settings, natsUrl } = this.deps;
    return {
      cluster: settings.cluster,
      taskDefinition: settings.taskDefinition,
      count: 1,
      capacityProviderStrategy: [{ capacityProvider: provider, weight: 1 }],
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: settings.subnets,
          securityGroups: settings.securityGroups,
          assignPublicIp: settings.assignPublicIp,
        },
      },
      startedBy: launch.deploymentId,
      // Deterministic per deployment, attempt and provider: at most 64 characters.
      clientToken: `${launch.deploymentId}-${attempt}-${provider === 'FARGATE' ? 'od' : 'spot'}`,
      // Nothing secret: overrides are visible to anyone who may DescribeTasks (docs/ecs-builds.md).
      overrides: {
        containerOverrides: [
          {
            name: settings.containerName,
            environment: [
              { name: 'DEPLOYMENT_ID', value: launch.deploymentId },
              { name: 'NATS_URL', value: natsUrl },
              { name: 'BOOTSTRAP_TOKEN', value: launch.bootstrapToken },
            ],
          },
        ],
      },
      tags: [
        { key: 'deploysphere:deployment', value: launch.deploymentId },
        ...(launch.projectSlug ? [{ key: 'deploysphere:project', value: launch.projectSlug }] : []),
        { key: 'deploysphere:region', value: settings.region },
        { key: 'deploysphere:attempt', value: String(attempt) },
      ],
      enableECSManagedTags: true,
    };
  }
}

/** The family of `family:revision` or its ARN. */
function familyOf(taskDefinition: string): string {
  return taskDefinition.replace(/^.*task-definition\//, '').replace(/:\d+$/, '');
}

function endedHandle(deploymentId: string, exit: BuildExit): BuildHandle {
  return { deploymentId, exited: Promise.resolve(exit), stop: async () => undefined };
}

/** One build's task, followed to its end through the region's watcher; restarts once after Spot. */
class EcsBuildHandle implements BuildHandle {
  readonly deploymentId: string;
  readonly exited: Promise<BuildExit>;
  private current: string;
  private stopping = false;
  /** Settles `exited` when ECS never confirms a stop: the slot and shutdown must not wait forever. */
  private giveUp!: (exit: BuildExit) => void;

  constructor(
    private readonly runner: EcsRunner,
    private readonly deps: EcsRunnerDeps,
    private readonly launch: BuildLaunch,
    taskArn: string,
    private attempt: number,
    private requeued: boolean,
  ) {
    this.deploymentId = launch.deploymentId;
    this.current = taskArn;
    const abandoned = new Promise<BuildExit>((resolve) => (this.giveUp = resolve));
    this.exited = Promise.race([this.follow(), abandoned]);
  }

  get taskArn(): string {
    return this.current;
  }

  release(): void {
    // No Spot restart from here on either: the adopter owns the build's next task.
    this.stopping = true;
    this.giveUp({ code: null, signal: null, released: true });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    try {
      await this.runner.stopTask(this.current, 'build stopped');
    } catch (err) {
      this.deps.log.error({ err, deploymentId: this.deploymentId, taskArn: this.current }, 'StopTask failed');
    }
    const deadline = this.deps.stopDeadlineMs ?? 60_000;
    const timer = setTimeout(
      () =>
        this.giveUp({
          code: null,
          signal: null,
          reason: `ECS did not confirm that build task ${this.current} stopped within ${deadline / 1000} s`,
        }),
      deadline,
    );
    await this.exited;
    clearTimeout(timer);
  }

  private async follow(): Promise<BuildExit> {
    for (;;) {
      const stopped: StoppedTask = await this.deps.watcher.watch(this.current);
      if (stopped.stopCode === 'SpotInterruption' && !this.requeued && !this.stopping) {
        this.requeued = true;
        if (await this.deps.stillBuilding(this.deploymentId).catch(() => false)) {
          try {
            await this.restartOnDemand();
            continue;
          } catch (err) {
            return {
              code: null,
              signal: null,
              reason: `Spot reclaimed the build task, and restarting it on FARGATE failed: ${(err as Error).message}`,
            };
          }
        }
      }
      return {
        code: stopped.exitCode,
        signal: null,
        reason: `the build task stopped (${describeStoppedTask(stopped)})`,
      };
    }
  }

  private async restartOnDemand(): Promise<void> {
    this.attempt += 1;
    this.deps.log.warn(
      { deploymentId: this.deploymentId, taskArn: this.current, attempt: this.attempt },
      'Spot reclaimed the build task; starting it once more on FARGATE',
    );
    const bootstrapToken = await this.deps.issueBootstrap(this.deploymentId);
    this.current = await this.runner.runTask({ ...this.launch, bootstrapToken }, this.attempt, ['FARGATE']);
  }
}

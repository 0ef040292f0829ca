import { randomUUID } from 'node:crypto';
import { clusterArn, containerArn, taskArn, type ArnScope } from './arns.js';
import type { ResourceUsage } from '../process-tree-usage.js';
import type { TaskProcess, TaskProcessExit } from './task-process.js';
import type { EcsTaskDefinitionInput } from './types.js';

export type CapacityProviderName = 'FARGATE' | 'FARGATE_SPOT';
export type LastStatus = 'PROVISIONING' | 'RUNNING' | 'STOPPED';
export type StopCode =
  'EssentialContainerExited' | 'UserInitiated' | 'SpotInterruption' | 'TaskFailedToStart';

export interface Tag {
  key: string;
  value: string;
}

/** What ECS says when a task's only (essential) container exits by itself. */
export const ESSENTIAL_CONTAINER_EXITED_REASON = 'Essential container in task exited';
/** Fargate's stoppedReason for a Spot interruption. */
export const SPOT_INTERRUPTION_REASON = 'Your Spot Task was interrupted.';
/** StopTask's stoppedReason when the caller gave none. */
export const DEFAULT_STOP_REASON = 'Task stopped by user';

export interface TaskInit {
  scope: ArnScope;
  id: string;
  /** Creation order across the endpoint, for ListTasks' stable pagination. */
  seq: number;
  cluster: string;
  definition: EcsTaskDefinitionInput;
  definitionArn: string;
  /** Undefined when RunTask gave `launchType: FARGATE` rather than a strategy, as ECS reports it. */
  capacityProviderName?: CapacityProviderName;
  startedBy?: string;
  group: string;
  overrides: Record<string, unknown>;
  tags: Tag[];
}

/** One task, from RunTask to STOPPED; the process lifecycle is TaskRunner's. */
export class EcsTask {
  readonly arn: string;
  readonly createdAt = new Date();
  lastStatus: LastStatus = 'PROVISIONING';
  desiredStatus: 'RUNNING' | 'STOPPED' = 'RUNNING';
  startedAt?: Date;
  stoppingAt?: Date;
  stoppedAt?: Date;
  stopCode?: StopCode;
  stoppedReason?: string;
  exitCode?: number;
  containerReason?: string;
  process?: TaskProcess;
  /** Bumped on every change, as ECS's `version` is. */
  version = 1;
  private readonly containerId = randomUUID();
  /** The container's Docker id, as the task metadata endpoint keys its stats. */
  readonly dockerId = `${randomUUID().replaceAll('-', '')}-${randomUUID().slice(0, 10)}`;
  /** What the container's processes used, sampled while it runs (the metadata endpoint's stats). */
  usage?: { current(): ResourceUsage; stop(): ResourceUsage };
  private resolveStopped!: () => void;
  private resolveLeftProvisioning!: () => void;
  /** Settles once the task is RUNNING, or STOPPED without having run. */
  readonly leftProvisioning = new Promise<void>((resolve) => (this.resolveLeftProvisioning = resolve));
  /** Settles once the task is STOPPED. */
  readonly stopped = new Promise<void>((resolve) => (this.resolveStopped = resolve));

  constructor(readonly init: TaskInit) {
    this.arn = taskArn(init.scope, init.cluster, init.id);
  }

  get id(): string {
    return this.init.id;
  }

  /** The container's process is up. */
  markRunning(process: TaskProcess): void {
    this.process = process;
    this.lastStatus = 'RUNNING';
    this.startedAt = new Date();
    this.version++;
    this.resolveLeftProvisioning();
  }

  /**
   * Records why the task is being stopped. The first reason wins: a task that a Spot
   * interruption is already stopping stays a SpotInterruption when StopTask follows.
   * Returns false when the task was already stopping or stopped.
   */
  requestStop(stopCode: StopCode, reason: string): boolean {
    if (this.desiredStatus === 'STOPPED') return false;
    this.desiredStatus = 'STOPPED';
    this.stopCode = stopCode;
    this.stoppedReason = reason;
    this.stoppingAt = new Date();
    this.version++;
    return true;
  }

  /** The container exited. Without an earlier stop request, the container itself ended the task. */
  markExited(exit: TaskProcessExit): void {
    if (this.desiredStatus !== 'STOPPED') {
      this.requestStop('EssentialContainerExited', ESSENTIAL_CONTAINER_EXITED_REASON);
    }
    this.exitCode = exit.exitCode;
    if (exit.signal) this.containerReason = `Container process was killed by ${exit.signal}`;
    this.finish();
  }

  /** The container never started: there is no exit code, only the reason. */
  markFailedToStart(reason: string): void {
    this.desiredStatus = 'STOPPED';
    this.stopCode = 'TaskFailedToStart';
    this.stoppedReason = `CannotStartContainerError: ${reason}`;
    this.containerReason = this.stoppedReason;
    this.stoppingAt ??= new Date();
    this.finish();
  }

  private finish(): void {
    this.lastStatus = 'STOPPED';
    this.stoppedAt = new Date();
    this.version++;
    this.resolveLeftProvisioning();
    this.resolveStopped();
  }

  /** The task as DescribeTasks, RunTask and StopTask return it. Dates are epoch seconds. */
  toJson(includeTags: boolean): Record<string, unknown> {
    const { scope, cluster, definition } = this.init;
    const seconds = (d: Date | undefined) => (d ? d.getTime() / 1000 : undefined);
    return {
      taskArn: this.arn,
      clusterArn: clusterArn(scope, cluster),
      taskDefinitionArn: this.init.definitionArn,
      group: this.init.group,
      startedBy: this.init.startedBy,
      launchType: 'FARGATE',
      capacityProviderName: this.init.capacityProviderName,
      platformVersion: '1.4.0',
      platformFamily: 'Linux',
      availabilityZone: `${scope.region}a`,
      connectivity: 'CONNECTED',
      cpu: definition.cpu,
      memory: definition.memory,
      lastStatus: this.lastStatus,
      desiredStatus: this.desiredStatus,
      healthStatus: 'UNKNOWN',
      enableExecuteCommand: false,
      version: this.version,
      overrides: this.init.overrides,
      createdAt: seconds(this.createdAt),
      startedAt: seconds(this.startedAt),
      stoppingAt: seconds(this.stoppingAt),
      executionStoppedAt: seconds(this.lastStatus === 'STOPPED' ? this.stoppedAt : undefined),
      stoppedAt: seconds(this.lastStatus === 'STOPPED' ? this.stoppedAt : undefined),
      stopCode: this.stopCode,
      stoppedReason: this.stoppedReason,
      attachments: [],
      containers: [
        {
          containerArn: containerArn(scope, cluster, this.id, this.containerId),
          taskArn: this.arn,
          name: definition.containerName,
          image: 'local',
          lastStatus: this.lastStatus,
          exitCode: this.exitCode,
          reason: this.containerReason,
          runtimeId: this.process ? String(this.process.pid) : undefined,
          healthStatus: 'UNKNOWN',
          networkInterfaces: [],
        },
      ],
      tags: includeTags ? this.init.tags : undefined,
    };
  }
}

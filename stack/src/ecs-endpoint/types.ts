/** One task definition the endpoint knows: a local stand-in for a registered ECS revision. */
export interface EcsTaskDefinitionInput {
  family: string;
  revision: number;
  containerName: string;
  /** argv of the container's process; first element is the executable. Never run through a shell. */
  command: string[];
  /** The task definition's static environment. */
  environment?: Record<string, string>;
  cwd?: string;
  cpu?: string;
  memory?: string;
  /** SIGTERM → SIGKILL grace on StopTask and Spot interruption (ECS default 30). */
  stopTimeoutSeconds?: number;
  /**
   * The only environment names a RunTask's overrides may set (ClientException otherwise). Real
   * ECS allows any; the stand-in runs on the platform's machine as the platform's user, so a
   * local caller must not be able to set NODE_OPTIONS or a sandbox switch. Unset: any name.
   */
  overridableEnvironment?: readonly string[];
}

export interface EcsEndpointOptions {
  region: string;
  /** Default '000000000000'. */
  accountId?: string;
  /** Default ['deploysphere-builds']. */
  clusters?: string[];
  taskDefinitions: EcsTaskDefinitionInput[];
  /** Each task's stdout and stderr go to `<logDir>/<taskId>.log`. */
  logDir: string;
  /** Default: a random free port on 127.0.0.1. */
  port?: number;
}

export interface RecordedEcsRequest {
  operation: string;
  body: unknown;
  at: Date;
}

export interface EcsFaults {
  /** The next `count` RunTask calls whose strategy/launch type uses `capacityProvider` return a capacity failure in failures[] (HTTP 200, no task). */
  capacityUnavailable(capacityProvider: 'FARGATE_SPOT' | 'FARGATE', count?: number): void;
  /** The next `count` requests of `operation` (or any operation when omitted) answer ThrottlingException (HTTP 400). */
  throttle(count: number, operation?: string): void;
  /** Interrupts a running Spot task: SIGTERM to its process group, then it stops with stopCode 'SpotInterruption'. */
  interruptSpot(taskArn: string): Promise<void>;
  /** Kills a task's process group with SIGKILL, as if the container died (stopCode 'EssentialContainerExited', exit code 137). */
  killTask(taskArn: string): Promise<void>;
  /** The next RunTask that lands on FARGATE_SPOT is interrupted as soon as it is RUNNING and `afterMs` passed. */
  interruptNextSpot(afterMs?: number): void;
}

export interface EcsEndpoint {
  readonly url: string;
  readonly region: string;
  /** Every ECS API request, parsed, in order (throttled and refused ones included). */
  readonly requests: readonly RecordedEcsRequest[];
  readonly faults: EcsFaults;
  /** Stops the server and kills every task process it started (process groups). */
  stop(): Promise<void>;
}

import { join } from 'node:path';
import { startEcsEndpoint, type EcsEndpoint, type EcsTaskDefinitionInput } from '@deploysphere/stack';
import type { EcsRegionSettings } from '../pipeline/ecs/ecs-settings.js';
import { workerCommand } from '../pipeline/worker-launch.js';

/** The one task definition each local ECS endpoint knows: the build worker, pinned like AWS's. */
export const LOCAL_TASK_FAMILY = 'deploysphere-build-worker';
export const LOCAL_TASK_REVISION = 1;
export const LOCAL_CONTAINER = 'build-worker';
/** Dummy credentials: the stand-in checks no signature, but the SDK signs every request. */
export const LOCAL_ECS_CREDENTIALS = { accessKeyId: 'LOCALECS', secretAccessKey: 'LOCALECS' };

/**
 * The build worker's task definition as the local ECS endpoint runs it: the same program and
 * static environment a Fargate task gets from its task definition (infra/aws), where the
 * container is the worker process started on this machine.
 */
export function localWorkerTaskDefinition(staticEnv: Record<string, string>): EcsTaskDefinitionInput {
  const [command, ...args] = workerCommand();
  return {
    family: LOCAL_TASK_FAMILY,
    revision: LOCAL_TASK_REVISION,
    containerName: LOCAL_CONTAINER,
    command: [command!, ...args],
    environment: staticEnv,
    // Exactly what EcsRunner's overrides carry; nothing else may be set by a RunTask here.
    overridableEnvironment: ['DEPLOYMENT_ID', 'NATS_URL', 'BOOTSTRAP_TOKEN'],
    stopTimeoutSeconds: 10,
  };
}

/** One region's local ECS endpoint, and the settings that make the control plane use it. */
export async function startLocalEcs(
  region: string,
  opts: { staticEnv: Record<string, string>; logDir: string },
): Promise<{ endpoint: EcsEndpoint; settings: EcsRegionSettings }> {
  const endpoint = await startEcsEndpoint({
    region,
    taskDefinitions: [localWorkerTaskDefinition(opts.staticEnv)],
    logDir: join(opts.logDir, region),
  });
  return {
    endpoint,
    settings: {
      region,
      cluster: 'deploysphere-builds',
      taskDefinition: `${LOCAL_TASK_FAMILY}:${LOCAL_TASK_REVISION}`,
      containerName: LOCAL_CONTAINER,
      // Placeholders in AWS's shapes: locally a task's network is this machine's.
      subnets: ['subnet-local'],
      securityGroups: ['sg-local'],
      assignPublicIp: 'ENABLED',
      endpoint: endpoint.url,
    },
  };
}

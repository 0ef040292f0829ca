import type { Region } from '@deploysphere/contracts';
import type { EnvProblem } from '../../config.js';

/** Where a region's builds run as ECS tasks: what RunTask needs besides the launch itself. */
export interface EcsRegionSettings {
  region: string;
  cluster: string;
  /** Pinned `family:revision`: a new image or size is a new revision, deployed deliberately. */
  taskDefinition: string;
  /** The task definition's container that runs the build worker. */
  containerName: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: 'ENABLED' | 'DISABLED';
  /** Another ECS API endpoint (the local stand-in); unset means AWS's own. */
  endpoint?: string;
}

/** `ap-southeast-1` → `ECS_AP_SOUTHEAST_1_`: the prefix of a region's ECS variables. */
export function ecsEnvPrefix(regionId: string): string {
  return `ECS_${regionId.toUpperCase().replace(/-/g, '_')}_`;
}

const TASK_DEFINITION = /^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/)?[A-Za-z0-9_-]{1,255}:\d+$/;
const SUBNET = /^subnet-[0-9a-zA-Z]+$/;
const SECURITY_GROUP = /^sg-[0-9a-zA-Z]+$/;

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Reads each region's ECS_<REGION>_CLUSTER / _TASK_DEFINITION / _SUBNETS / _SECURITY_GROUPS /
 * _ASSIGN_PUBLIC_IP / _CONTAINER / _ENDPOINT. Like the S3 variables, their names depend on
 * REGIONS. Every region needs them once builds run on ECS: any region can be a primary.
 */
export function readEcsEnv(
  env: Record<string, unknown>,
  regions: readonly Region[],
): { ecs: EcsRegionSettings[]; problems: EnvProblem[] } {
  const problems: EnvProblem[] = [];
  const ecs: EcsRegionSettings[] = [];
  for (const region of regions) {
    const prefix = ecsEnvPrefix(region.id);
    const get = (name: string) => {
      const v = env[prefix + name];
      return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
    };
    const required = (name: string, what: string) => {
      const v = get(name);
      if (v === undefined)
        problems.push({ variable: prefix + name, message: `is required with BUILD_RUNNER=ecs (${what})` });
      return v;
    };
    const cluster = required('CLUSTER', 'the cluster name or ARN');
    const taskDefinition = required('TASK_DEFINITION', 'family:revision');
    if (taskDefinition !== undefined && !TASK_DEFINITION.test(taskDefinition)) {
      problems.push({
        variable: `${prefix}TASK_DEFINITION`,
        message: 'expected family:revision (or its ARN): a pinned revision, not a bare family',
      });
    }
    const subnets = list(required('SUBNETS', 'comma-separated subnet ids'));
    if (subnets.some((s) => !SUBNET.test(s))) {
      problems.push({ variable: `${prefix}SUBNETS`, message: 'expected comma-separated subnet-… ids' });
    }
    const securityGroups = list(required('SECURITY_GROUPS', 'comma-separated security group ids'));
    if (securityGroups.some((s) => !SECURITY_GROUP.test(s))) {
      problems.push({ variable: `${prefix}SECURITY_GROUPS`, message: 'expected comma-separated sg-… ids' });
    }
    const publicIp = get('ASSIGN_PUBLIC_IP') ?? 'ENABLED';
    if (publicIp !== 'ENABLED' && publicIp !== 'DISABLED') {
      problems.push({ variable: `${prefix}ASSIGN_PUBLIC_IP`, message: 'expected ENABLED or DISABLED' });
    }
    const endpoint = get('ENDPOINT');
    if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint)) {
      problems.push({ variable: `${prefix}ENDPOINT`, message: 'expected an http:// or https:// URL' });
    }
    if (cluster === undefined || taskDefinition === undefined) continue;
    ecs.push({
      region: region.id,
      cluster,
      taskDefinition,
      containerName: get('CONTAINER') ?? 'build-worker',
      subnets,
      securityGroups,
      assignPublicIp: publicIp === 'DISABLED' ? 'DISABLED' : 'ENABLED',
      ...(endpoint ? { endpoint } : {}),
    });
  }
  return { ecs, problems };
}

/** The variables that configure one region as `s` does: readEcsEnv's inverse. */
export function ecsSettingsEnv(s: EcsRegionSettings): Record<string, string> {
  const prefix = ecsEnvPrefix(s.region);
  return {
    [`${prefix}CLUSTER`]: s.cluster,
    [`${prefix}TASK_DEFINITION`]: s.taskDefinition,
    [`${prefix}CONTAINER`]: s.containerName,
    [`${prefix}SUBNETS`]: s.subnets.join(','),
    [`${prefix}SECURITY_GROUPS`]: s.securityGroups.join(','),
    [`${prefix}ASSIGN_PUBLIC_IP`]: s.assignPublicIp,
    [`${prefix}ENDPOINT`]: s.endpoint ?? '',
  };
}

/**
 * The physical names of each region's resources. The control-plane stack grants rights on them by
 * ARN, without importing anything from the region stacks, which live in other regions: one
 * function names them for both, so the two cannot drift apart.
 */

/** The ECS cluster every build task of a region runs in. */
export const CLUSTER_NAME = 'deploysphere-builds';
/** The worker's task definition family; the control plane pins `family:revision`. */
export const TASK_FAMILY = 'deploysphere-build-worker';
/** The container that runs the build worker: the control plane's ECS_<REGION>_CONTAINER default. */
export const CONTAINER_NAME = 'build-worker';
/** The ECR repository of the worker image, per region (tasks pull from their own region). */
export const REPOSITORY_NAME = 'deploysphere/build-worker';

export interface RegionRef {
  account: string;
  region: string;
  bucketName: string;
}

/** IAM names are global to the account, so per-region roles carry the region. */
export function executionRoleName(region: string): string {
  return `deploysphere-build-exec-${region}`;
}

export function clusterArn(r: RegionRef): string {
  return `arn:aws:ecs:${r.region}:${r.account}:cluster/${CLUSTER_NAME}`;
}

/** Every revision of the worker's family: RunTask is granted on these and nothing else. */
export function taskFamilyArn(r: RegionRef): string {
  return `arn:aws:ecs:${r.region}:${r.account}:task-definition/${TASK_FAMILY}:*`;
}

/** Tasks of the build cluster (`task/<cluster>/<id>`). */
export function clusterTasksArn(r: RegionRef): string {
  return `arn:aws:ecs:${r.region}:${r.account}:task/${CLUSTER_NAME}/*`;
}

export function executionRoleArn(r: RegionRef): string {
  return `arn:aws:iam::${r.account}:role/${executionRoleName(r.region)}`;
}

export function bucketArn(r: RegionRef): string {
  return `arn:aws:s3:::${r.bucketName}`;
}

/** CloudFormation stack names: letters, digits and hyphens. */
export function regionStackName(region: string): string {
  return `deploysphere-${region}`;
}

export const CONTROL_PLANE_STACK_NAME = 'deploysphere-control-plane';
export const CONTROL_PLANE_ROLE_NAME = 'deploysphere-control-plane';
export const EDGE_READER_USER_NAME = 'deploysphere-edge-reader';

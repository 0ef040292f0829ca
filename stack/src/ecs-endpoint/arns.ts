import { randomBytes } from 'node:crypto';

/** Where ARNs point: the endpoint's one region and account. */
export interface ArnScope {
  region: string;
  accountId: string;
}

const prefix = (scope: ArnScope) => `arn:aws:ecs:${scope.region}:${scope.accountId}:`;

export const clusterArn = (scope: ArnScope, cluster: string): string => `${prefix(scope)}cluster/${cluster}`;

export const taskArn = (scope: ArnScope, cluster: string, taskId: string): string =>
  `${prefix(scope)}task/${cluster}/${taskId}`;

export const taskDefinitionArn = (scope: ArnScope, family: string, revision: number): string =>
  `${prefix(scope)}task-definition/${family}:${revision}`;

export const containerArn = (scope: ArnScope, cluster: string, taskId: string, containerId: string): string =>
  `${prefix(scope)}container/${cluster}/${taskId}/${containerId}`;

/** ECS task ids are 32 lower-case hex digits. */
export const newTaskId = (): string => randomBytes(16).toString('hex');

/**
 * The resource part of one of this endpoint's ECS ARNs (`cluster/x`, `task/c/id`, …), or
 * undefined when the text is an ARN of another region, account or service: ECS treats those as
 * unknown resources, not as syntax errors.
 */
function resourceOf(scope: ArnScope, ref: string): string | undefined {
  if (!ref.startsWith('arn:')) return undefined;
  return ref.startsWith(prefix(scope)) ? ref.slice(prefix(scope).length) : undefined;
}

const isArn = (ref: string) => ref.startsWith('arn:');

/** A cluster given by name or ARN, as its name; undefined for an ARN that is not ours. */
export function clusterName(scope: ArnScope, ref: string): string | undefined {
  if (!isArn(ref)) return ref;
  const resource = resourceOf(scope, ref);
  return resource?.startsWith('cluster/') ? resource.slice('cluster/'.length) : undefined;
}

/**
 * A task given by ARN (`task/<cluster>/<id>`, or the old `task/<id>` form) or by bare id.
 * `cluster` is set only when the ARN names one.
 */
export function parseTaskRef(scope: ArnScope, ref: string): { id: string; cluster?: string } | undefined {
  if (!isArn(ref)) return { id: ref };
  const parts = resourceOf(scope, ref)?.split('/');
  if (!parts || parts[0] !== 'task') return undefined;
  if (parts.length === 3) return { cluster: parts[1]!, id: parts[2]! };
  if (parts.length === 2) return { id: parts[1]! };
  return undefined;
}

/** `family`, `family:revision` or the task definition's ARN. */
export function parseTaskDefinitionRef(
  scope: ArnScope,
  ref: string,
): { family: string; revision?: number } | undefined {
  let text = ref;
  if (isArn(ref)) {
    const resource = resourceOf(scope, ref);
    if (!resource?.startsWith('task-definition/')) return undefined;
    text = resource.slice('task-definition/'.length);
  }
  const match = /^([A-Za-z0-9_-]{1,255})(?::([1-9][0-9]*))?$/.exec(text);
  if (!match) return undefined;
  return match[2] === undefined ? { family: match[1]! } : { family: match[1]!, revision: Number(match[2]) };
}

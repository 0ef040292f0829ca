import type { EndpointContext } from './context.js';
import { describeTaskDefinition } from './describe-task-definition.js';
import { describeTasks } from './describe-tasks.js';
import { listTasks } from './list-tasks.js';
import { runTask } from './run-task.js';
import { stopTask } from './stop-task.js';

export type Operation = (ctx: EndpointContext, body: unknown) => Record<string, unknown>;

/** The ECS operations the endpoint answers, by their X-Amz-Target name (a Map: no prototype keys). */
export const OPERATIONS: ReadonlyMap<string, Operation> = new Map<string, Operation>([
  ['RunTask', runTask],
  ['DescribeTasks', describeTasks],
  ['StopTask', stopTask],
  ['ListTasks', listTasks],
  ['DescribeTaskDefinition', describeTaskDefinition],
]);

import { z } from 'zod';
import { resolveCluster, type EndpointContext } from './context.js';
import { invalidParameter } from './errors.js';
import { parseInput } from './input.js';
import { DEFAULT_STOP_REASON } from './task.js';

const stopTaskInput = z.looseObject({
  cluster: z.string().optional(),
  task: z.string({ error: 'task is required' }),
  reason: z.string().max(255, 'reason must be at most 255 characters').optional(),
});

/**
 * StopTask: SIGTERM to the task's process group now, SIGKILL after its stopTimeout. Answers at
 * once with desiredStatus STOPPED, as ECS does; a stopped task comes back unchanged.
 */
export function stopTask(ctx: EndpointContext, body: unknown): Record<string, unknown> {
  const input = parseInput(stopTaskInput, body);
  const cluster = resolveCluster(ctx, input.cluster);
  const task = ctx.store.find(cluster, input.task);
  if (!task) throw invalidParameter('The referenced task was not found.');
  ctx.runner.requestStop(task, 'UserInitiated', input.reason || DEFAULT_STOP_REASON);
  return { task: task.toJson(false) };
}

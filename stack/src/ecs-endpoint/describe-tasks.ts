import { z } from 'zod';
import { resolveCluster, type EndpointContext } from './context.js';
import { invalidParameter } from './errors.js';
import { parseInput } from './input.js';

const describeTasksInput = z.looseObject({
  cluster: z.string().optional(),
  tasks: z.array(z.string(), { error: 'tasks is required' }),
  include: z.array(z.string()).optional(),
});

/** DescribeTasks: up to 100 tasks by ARN or id; unknown ones come back as MISSING failures. */
export function describeTasks(ctx: EndpointContext, body: unknown): Record<string, unknown> {
  const input = parseInput(describeTasksInput, body);
  const cluster = resolveCluster(ctx, input.cluster);
  if (input.tasks.length === 0) throw invalidParameter('Tasks cannot be empty.');
  if (input.tasks.length > 100) throw invalidParameter('Tasks cannot have more than 100 elements.');
  const includeTags = input.include?.includes('TAGS') ?? false;
  const tasks: unknown[] = [];
  const failures: unknown[] = [];
  for (const ref of input.tasks) {
    const task = ctx.store.find(cluster, ref);
    if (task) tasks.push(task.toJson(includeTags));
    else failures.push({ arn: ref, reason: 'MISSING' });
  }
  return { tasks, failures };
}

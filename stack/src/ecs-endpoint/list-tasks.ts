import { z } from 'zod';
import { parseTaskDefinitionRef } from './arns.js';
import { resolveCluster, type EndpointContext } from './context.js';
import { invalidParameter } from './errors.js';
import { parseInput } from './input.js';
import type { EcsTask } from './task.js';

const listTasksInput = z.looseObject({
  cluster: z.string().optional(),
  family: z.string().optional(),
  startedBy: z.string().optional(),
  serviceName: z.string().optional(),
  launchType: z.string().optional(),
  desiredStatus: z.enum(['RUNNING', 'PENDING', 'STOPPED']).optional(),
  maxResults: z.number().int().min(1).max(100).optional(),
  nextToken: z.string().optional(),
});

/**
 * The page token is the creation sequence number of the last task returned. Tasks are never
 * removed, so a page boundary stays put while tasks start and stop between pages.
 */
const encodeToken = (seq: number) => Buffer.from(JSON.stringify({ after: seq })).toString('base64url');

function decodeToken(token: string): number {
  try {
    const parsed = z
      .object({ after: z.number().int() })
      .parse(JSON.parse(Buffer.from(token, 'base64url').toString()));
    return parsed.after;
  } catch {
    throw invalidParameter('Invalid nextToken.');
  }
}

function matches(task: EcsTask, input: z.infer<typeof listTasksInput>): boolean {
  const desired = input.desiredStatus ?? 'RUNNING';
  if (desired === 'PENDING') {
    if (task.desiredStatus !== 'RUNNING' || task.lastStatus !== 'PROVISIONING') return false;
  } else if (task.desiredStatus !== desired) {
    return false;
  }
  if (input.startedBy !== undefined && task.init.startedBy !== input.startedBy) return false;
  if (input.family !== undefined && task.init.definition.family !== input.family) return false;
  if (input.launchType !== undefined && input.launchType !== 'FARGATE') return false;
  // The endpoint runs no services, so no task belongs to one.
  if (input.serviceName !== undefined) return false;
  return true;
}

/** ListTasks: task ARNs of one cluster by desiredStatus (RUNNING by default), paginated. */
export function listTasks(ctx: EndpointContext, body: unknown): Record<string, unknown> {
  const input = parseInput(listTasksInput, body);
  const cluster = resolveCluster(ctx, input.cluster);
  if (input.family !== undefined && !parseTaskDefinitionRef(ctx.scope, input.family)) {
    throw invalidParameter('family is not a valid task definition family.');
  }
  const after = input.nextToken === undefined ? 0 : decodeToken(input.nextToken);
  const limit = input.maxResults ?? 100;
  const found = ctx.store
    .all()
    .filter((t) => t.init.cluster === cluster && t.init.seq > after && matches(t, input));
  const page = found.slice(0, limit);
  const more = found.length > limit;
  return {
    taskArns: page.map((t) => t.arn),
    nextToken: more ? encodeToken(page[page.length - 1]!.init.seq) : undefined,
  };
}

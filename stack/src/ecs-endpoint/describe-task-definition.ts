import { z } from 'zod';
import type { EndpointContext } from './context.js';
import { clientException } from './errors.js';
import { parseInput } from './input.js';

const describeTaskDefinitionInput = z.looseObject({
  taskDefinition: z.string({ error: 'taskDefinition is required' }),
  include: z.array(z.string()).optional(),
});

/** DescribeTaskDefinition by `family`, `family:revision` or ARN. */
export function describeTaskDefinition(ctx: EndpointContext, body: unknown): Record<string, unknown> {
  const input = parseInput(describeTaskDefinitionInput, body);
  const def = ctx.definitions.resolve(input.taskDefinition);
  if (!def) throw clientException('Unable to describe task definition.');
  return {
    taskDefinition: ctx.definitions.describe(def),
    tags: input.include?.includes('TAGS') ? [] : undefined,
  };
}

import { z } from 'zod';
import { newTaskId } from './arns.js';
import { resolveCluster, type EndpointContext } from './context.js';
import { clientException, EcsApiError, invalidParameter } from './errors.js';
import { canonicalJson, parseInput } from './input.js';
import { EcsTask, type CapacityProviderName, type Tag } from './task.js';
import { metadataUri } from './task-metadata.js';
import type { EcsTaskDefinitionInput } from './types.js';

/** The failure reason Fargate gives when it has no capacity for a task (AWS knowledge center). */
export const CAPACITY_UNAVAILABLE_REASON =
  'Capacity is unavailable at this time. Please try again later or in a different availability zone';

/** ECS counts the overrides' JSON, formatting included, against this limit. */
export const MAX_OVERRIDES_BYTES = 8192;

const keyValuePair = z.looseObject({ name: z.string().optional(), value: z.string().optional() });

const containerOverride = z.looseObject({
  name: z.string().optional(),
  command: z.array(z.string()).optional(),
  environment: z.array(keyValuePair).optional(),
});

const runTaskInput = z.looseObject({
  cluster: z.string().optional(),
  taskDefinition: z.string({ error: 'taskDefinition is required' }),
  count: z.number().int().min(1).max(10).optional(),
  launchType: z.string().optional(),
  capacityProviderStrategy: z
    .array(
      z.looseObject({
        capacityProvider: z.string(),
        weight: z.number().optional(),
        base: z.number().optional(),
      }),
    )
    .optional(),
  networkConfiguration: z
    .looseObject({
      awsvpcConfiguration: z
        .looseObject({
          subnets: z.array(z.string()).optional(),
          securityGroups: z.array(z.string()).optional(),
          assignPublicIp: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
  overrides: z.looseObject({ containerOverrides: z.array(containerOverride).optional() }).optional(),
  startedBy: z.string().optional(),
  group: z.string().optional(),
  tags: z.array(z.looseObject({ key: z.string(), value: z.string().optional() })).optional(),
  clientToken: z.string().optional(),
});

type RunTaskInput = z.infer<typeof runTaskInput>;

/** Which capacity the task lands on, and whether ECS reports it as a capacity provider. */
interface Placement {
  provider: CapacityProviderName;
  viaStrategy: boolean;
}

function placementOf(input: RunTaskInput): Placement {
  const strategy = input.capacityProviderStrategy;
  if (input.launchType !== undefined && strategy !== undefined) {
    throw invalidParameter(
      'Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.',
    );
  }
  if (strategy !== undefined) {
    // Base and weight only matter for several tasks across providers; the first one is used.
    const first = strategy[0]?.capacityProvider;
    if (first !== 'FARGATE' && first !== 'FARGATE_SPOT') {
      throw invalidParameter(
        first === undefined
          ? 'capacityProviderStrategy must name at least one capacity provider.'
          : `The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster: ${first}`,
      );
    }
    return { provider: first, viaStrategy: true };
  }
  // The endpoint's clusters are Fargate clusters: no launch type means Fargate, as their
  // default capacity provider strategy would give.
  const launchType = input.launchType ?? 'FARGATE';
  if (launchType !== 'FARGATE') throw invalidParameter('No Container Instances were found in your cluster.');
  return { provider: 'FARGATE', viaStrategy: false };
}

function validate(input: RunTaskInput, def: EcsTaskDefinitionInput): Tag[] {
  if (!input.networkConfiguration?.awsvpcConfiguration?.subnets?.length) {
    throw invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  }
  const overridesBytes = Buffer.byteLength(JSON.stringify(input.overrides ?? {}));
  if (overridesBytes > MAX_OVERRIDES_BYTES) {
    throw clientException(
      `Container Overrides length must be at most ${MAX_OVERRIDES_BYTES} (it is ${overridesBytes}).`,
    );
  }
  if (input.startedBy !== undefined && input.startedBy.length > 128) {
    throw invalidParameter('startedBy must be at most 128 characters.');
  }
  if (input.clientToken !== undefined && (input.clientToken.length < 1 || input.clientToken.length > 64)) {
    throw invalidParameter('clientToken must be 1 to 64 characters.');
  }
  for (const override of input.overrides?.containerOverrides ?? []) {
    if (override.name !== def.containerName) {
      throw invalidParameter(
        `Override for container named ${override.name ?? '(none)'} is not a container in the TaskDefinition.`,
      );
    }
    // A command override would let any local caller run any program: the endpoint only runs
    // the commands it was started with.
    if (override.command !== undefined) {
      throw clientException('The local ECS endpoint does not support command overrides.');
    }
  }
  const tags = (input.tags ?? []).map((t) => ({ key: t.key, value: t.value ?? '' }));
  if (tags.length > 50) throw invalidParameter('A task can have at most 50 tags.');
  for (const tag of tags) {
    if (tag.key.length < 1 || tag.key.length > 128 || tag.value.length > 256) {
      throw invalidParameter(`Tag ${tag.key}: keys are 1-128 characters and values at most 256.`);
    }
    if (tag.key.toLowerCase().startsWith('aws:')) {
      throw invalidParameter(`Tag keys starting with "aws:" are reserved: ${tag.key}`);
    }
  }
  return tags;
}

/** The container's environment: the definition's, then the overrides' (later names win). */
function environmentOf(input: RunTaskInput, def: EcsTaskDefinitionInput): Record<string, string> {
  const env: Record<string, string> = { ...def.environment };
  const allowed = def.overridableEnvironment ? new Set(def.overridableEnvironment) : undefined;
  for (const override of input.overrides?.containerOverrides ?? []) {
    for (const pair of override.environment ?? []) {
      if (pair.name === undefined) continue;
      if (allowed && !allowed.has(pair.name)) {
        throw clientException(`Container override environment variable ${pair.name} is not allowed here.`);
      }
      env[pair.name] = pair.value ?? '';
    }
  }
  return env;
}

export function runTask(ctx: EndpointContext, body: unknown): Record<string, unknown> {
  const input = parseInput(runTaskInput, body);
  const cluster = resolveCluster(ctx, input.cluster);
  const placement = placementOf(input);
  const def = ctx.definitions.resolve(input.taskDefinition);
  if (!def) throw invalidParameter('TaskDefinition not found.');
  const tags = validate(input, def);
  // Before anything is recorded: a refused override starts nothing.
  const env = environmentOf(input, def);

  // A retried RunTask (the SDK's own retry after a lost answer) returns what the first started.
  const fingerprint = canonicalJson(body);
  if (input.clientToken !== undefined) {
    const earlier = ctx.store.idempotentRun(cluster, input.clientToken);
    if (earlier && earlier.fingerprint === fingerprint) {
      return { tasks: earlier.tasks.map((t) => t.toJson(true)), failures: [] };
    }
    if (earlier) {
      throw new EcsApiError(
        'ConflictException',
        `The clientToken ${input.clientToken} was already used with different parameters.`,
        400,
        { resourceIds: earlier.tasks.map((t) => t.arn) },
      );
    }
  }

  const count = input.count ?? 1;
  if (ctx.faults.takeCapacityFailure(placement.provider)) {
    // Fargate reports this in failures[] with HTTP 200, one per task it could not place.
    return {
      tasks: [],
      failures: Array.from({ length: count }, () => ({ reason: CAPACITY_UNAVAILABLE_REASON })),
    };
  }

  const tasks: EcsTask[] = [];
  for (let i = 0; i < count; i++) {
    const task = new EcsTask({
      scope: ctx.scope,
      id: newTaskId(),
      seq: ctx.store.seq(),
      cluster,
      definition: def,
      definitionArn: ctx.definitions.arnOf(def),
      capacityProviderName: placement.viaStrategy ? placement.provider : undefined,
      startedBy: input.startedBy,
      group: input.group ?? `family:${def.family}`,
      overrides: { containerOverrides: [], inferenceAcceleratorOverrides: [], ...input.overrides },
      tags,
    });
    ctx.store.add(task);
    tasks.push(task);
  }
  if (input.clientToken !== undefined) {
    ctx.store.rememberRun(cluster, input.clientToken, { fingerprint, tasks });
  }
  // Answer with PROVISIONING tasks, as ECS does; the processes start right after.
  const answer = { tasks: tasks.map((t) => t.toJson(true)), failures: [] };
  for (const task of tasks) {
    ctx.runner.start(task, {
      argv: def.command,
      // As Fargate's agent does: every container learns where its task's metadata is.
      env: ctx.url ? { ...env, ECS_CONTAINER_METADATA_URI_V4: metadataUri(ctx.url, task.id) } : env,
      cwd: def.cwd,
      interruptSpotAfterMs:
        placement.provider === 'FARGATE_SPOT' ? ctx.faults.takeSpotInterrupt() : undefined,
    });
  }
  return answer;
}

import { z } from 'zod';
import { parseTaskDefinitionRef, taskDefinitionArn, type ArnScope } from './arns.js';
import type { EcsTaskDefinitionInput } from './types.js';

/** ECS's default grace between SIGTERM and SIGKILL when a container definition sets none. */
export const DEFAULT_STOP_TIMEOUT_SECONDS = 30;

const definitionSchema = z.object({
  family: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'a family is 1-255 letters, digits, - and _'),
  revision: z.number().int().positive(),
  containerName: z.string().min(1),
  command: z.array(z.string()).min(1, 'command needs at least the executable'),
  environment: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
  cpu: z.string().optional(),
  memory: z.string().optional(),
  // ECS caps stopTimeout at 120 s on Fargate.
  stopTimeoutSeconds: z.number().min(0).max(120).optional(),
});

/** The task definitions the endpoint was started with, looked up the ways RunTask accepts. */
export class TaskDefinitionRegistry {
  private readonly byKey = new Map<string, EcsTaskDefinitionInput>();
  private readonly registeredAt = new Date();

  constructor(
    private readonly scope: ArnScope,
    definitions: EcsTaskDefinitionInput[],
  ) {
    for (const input of definitions) {
      const parsed = definitionSchema.safeParse(input);
      if (!parsed.success) {
        throw new Error(
          `task definition ${input.family}:${input.revision}: ${z.prettifyError(parsed.error)}`,
        );
      }
      const key = `${input.family}:${input.revision}`;
      if (this.byKey.has(key)) throw new Error(`task definition ${key} is given twice`);
      this.byKey.set(key, input);
    }
  }

  /** `family:revision`, its ARN, or a bare family (its latest revision), as ECS resolves them. */
  resolve(ref: string): EcsTaskDefinitionInput | undefined {
    const parsed = parseTaskDefinitionRef(this.scope, ref);
    if (!parsed) return undefined;
    if (parsed.revision !== undefined) return this.byKey.get(`${parsed.family}:${parsed.revision}`);
    let latest: EcsTaskDefinitionInput | undefined;
    for (const def of this.byKey.values()) {
      if (def.family === parsed.family && (!latest || def.revision > latest.revision)) latest = def;
    }
    return latest;
  }

  arnOf(def: EcsTaskDefinitionInput): string {
    return taskDefinitionArn(this.scope, def.family, def.revision);
  }

  /** DescribeTaskDefinition's `taskDefinition`, shaped like a Fargate revision. */
  describe(def: EcsTaskDefinitionInput): Record<string, unknown> {
    return {
      taskDefinitionArn: this.arnOf(def),
      family: def.family,
      revision: def.revision,
      status: 'ACTIVE',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      compatibilities: ['EC2', 'FARGATE'],
      cpu: def.cpu,
      memory: def.memory,
      registeredAt: this.registeredAt.getTime() / 1000,
      containerDefinitions: [
        {
          name: def.containerName,
          // There is no image: the command runs on this machine.
          image: 'local',
          essential: true,
          command: def.command,
          workingDirectory: def.cwd,
          environment: Object.entries(def.environment ?? {}).map(([name, value]) => ({ name, value })),
          stopTimeout: def.stopTimeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS,
        },
      ],
    };
  }
}

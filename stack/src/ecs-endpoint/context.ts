import type { ArnScope } from './arns.js';
import { clusterName } from './arns.js';
import { clusterNotFound } from './errors.js';
import type { FaultPlan } from './fault-plan.js';
import type { TaskDefinitionRegistry } from './task-definitions.js';
import type { TaskRunner } from './task-runner.js';
import type { TaskStore } from './task-store.js';

/** What every operation handler works on: one endpoint's region, clusters, tasks and faults. */
export interface EndpointContext {
  scope: ArnScope;
  clusters: ReadonlySet<string>;
  definitions: TaskDefinitionRegistry;
  store: TaskStore;
  runner: TaskRunner;
  faults: FaultPlan;
  /** The endpoint's own URL once it listens: tasks find their metadata endpoint under it. */
  url?: string;
}

/**
 * The cluster a request names, by name or ARN. ECS falls back to the cluster called `default`
 * when none is given, which the endpoint only has when started with it.
 */
export function resolveCluster(ctx: EndpointContext, ref: string | undefined): string {
  const name = clusterName(ctx.scope, ref ?? 'default');
  if (name === undefined || !ctx.clusters.has(name)) throw clusterNotFound();
  return name;
}

import { parseTaskRef, type ArnScope } from './arns.js';
import type { EcsTask } from './task.js';

/** RunTask's clientToken record: what the token was first used with, and what it started. */
export interface IdempotentRun {
  /** The request's canonical JSON, to tell a retry from a reuse with other parameters. */
  fingerprint: string;
  tasks: EcsTask[];
}

/**
 * Every task the endpoint started, in creation order. Stopped tasks stay for the endpoint's
 * lifetime (ECS keeps them describable for about an hour), so nothing is ever removed.
 */
export class TaskStore {
  private readonly byId = new Map<string, EcsTask>();
  private readonly ordered: EcsTask[] = [];
  private readonly tokens = new Map<string, IdempotentRun>();
  private nextSeq = 1;

  constructor(private readonly scope: ArnScope) {}

  seq(): number {
    return this.nextSeq++;
  }

  add(task: EcsTask): void {
    this.byId.set(task.id, task);
    this.ordered.push(task);
  }

  all(): readonly EcsTask[] {
    return this.ordered;
  }

  /** A task by its id alone (the metadata endpoint's path names no cluster). */
  byTaskId(id: string): EcsTask | undefined {
    return this.byId.get(id);
  }

  /** A task of `cluster`, by ARN or id; undefined when unknown or in another cluster. */
  find(cluster: string, ref: string): EcsTask | undefined {
    const parsed = parseTaskRef(this.scope, ref);
    if (!parsed) return undefined;
    if (parsed.cluster !== undefined && parsed.cluster !== cluster) return undefined;
    const task = this.byId.get(parsed.id);
    return task?.init.cluster === cluster ? task : undefined;
  }

  /** A task by ARN or id in any cluster: what the fault controls are given. */
  findByArn(ref: string): EcsTask | undefined {
    const parsed = parseTaskRef(this.scope, ref);
    const task = parsed ? this.byId.get(parsed.id) : undefined;
    if (parsed?.cluster !== undefined && task?.init.cluster !== parsed.cluster) return undefined;
    return task;
  }

  /** clientTokens are scoped to a cluster, as in ECS. */
  idempotentRun(cluster: string, token: string): IdempotentRun | undefined {
    return this.tokens.get(`${cluster}\u0000${token}`);
  }

  rememberRun(cluster: string, token: string, run: IdempotentRun): void {
    this.tokens.set(`${cluster}\u0000${token}`, run);
  }
}

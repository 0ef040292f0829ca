import type { ServerResponse } from 'node:http';
import { processTreeUsage } from '../process-tree-usage.js';
import type { TaskStore } from './task-store.js';

/**
 * The stand-in for Fargate's task metadata endpoint v4 (169.254.170.2/v4/<id>): what a task's
 * container reads through `ECS_CONTAINER_METADATA_URI_V4`. Only the stats, which is what the build
 * worker asks for: `GET <uri>/task/stats` answers Docker stats per container, keyed by its id.
 * Fargate takes them from the task's cgroup, exactly; the stand-in samples the task's local process
 * tree, which may miss a memory peak shorter than its interval (docs/local-ecs-endpoint.md).
 */
export const METADATA_PREFIX = '/v4/';

/** The value of ECS_CONTAINER_METADATA_URI_V4 for a task of the endpoint at `endpointUrl`. */
export function metadataUri(endpointUrl: string, taskId: string): string {
  return `${endpointUrl}${METADATA_PREFIX}${taskId}`;
}

/** Docker's stats document, the fields the metadata endpoint fills. */
export interface DockerStats {
  read: string;
  cpu_stats: { cpu_usage: { total_usage: number } };
  memory_stats: { usage: number; max_usage: number };
}

function statsOf(store: TaskStore, taskId: string): Record<string, DockerStats> | undefined {
  const task = store.byTaskId(taskId);
  if (!task) return undefined;
  const seen = task.usage?.current();
  const now = task.lastStatus === 'RUNNING' && task.process ? processTreeUsage(task.process.pid) : undefined;
  const cpuSeconds = seen?.cpuSeconds ?? 0;
  const usage = now?.peakMemoryBytes ?? 0;
  return {
    [task.dockerId]: {
      read: new Date().toISOString(),
      cpu_stats: { cpu_usage: { total_usage: Math.round(cpuSeconds * 1e9) } },
      memory_stats: { usage, max_usage: Math.max(usage, seen?.peakMemoryBytes ?? 0) },
    },
  };
}

/** `GET /v4/<taskId>/task/stats` (every container) and `/v4/<taskId>/stats` (the container's own). */
export function handleMetadata(
  store: TaskStore,
  method: string | undefined,
  path: string,
  res: ServerResponse,
): void {
  const match = /^\/v4\/([^/]+)\/(task\/stats|stats)$/.exec(path);
  const stats = method === 'GET' && match ? statsOf(store, match[1]!) : undefined;
  if (!match || !stats) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(match[2] === 'stats' ? Object.values(stats)[0] : stats));
}

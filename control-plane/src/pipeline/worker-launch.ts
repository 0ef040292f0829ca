import { fileURLToPath } from 'node:url';

const WORKER_MAIN = fileURLToPath(import.meta.resolve('@deploysphere/build-worker/main'));
const TSX_LOADER = import.meta.resolve('tsx');

/**
 * The build worker's argv on this machine: the same program a Fargate task's container runs
 * (build-worker/Dockerfile), started by LocalRunner or by the local ECS endpoint.
 */
export function workerCommand(): string[] {
  return [process.execPath, '--import', TSX_LOADER, WORKER_MAIN];
}

import { fileURLToPath } from 'node:url';
import { settingsToEnv } from '@deploysphere/build-worker/config';
import type { BuildLimits } from '../config.js';

const WORKER_MAIN = fileURLToPath(import.meta.resolve('@deploysphere/build-worker/main'));
const TSX_LOADER = import.meta.resolve('tsx');

/**
 * The build worker's argv on this machine: the same program a Fargate task's container runs
 * (build-worker/Dockerfile), started by LocalRunner or by the local ECS endpoint.
 */
export function workerCommand(): string[] {
  return [process.execPath, '--import', TSX_LOADER, WORKER_MAIN];
}

/**
 * The worker's static environment: what a Fargate task's definition holds (infra/aws) and what
 * LocalRunner gives every build besides its launch (deployment id, NATS URL, bootstrap token).
 * Nothing here is secret: task definitions are readable by anyone who may describe them.
 */
export function workerStaticEnv(o: {
  controlPlaneUrl: string;
  limits: BuildLimits;
  natsTlsCaFile?: string | undefined;
  path?: string | undefined;
}): Record<string, string> {
  return {
    PATH: o.path ?? '/usr/local/bin:/usr/bin:/bin',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    CONTROL_PLANE_URL: o.controlPlaneUrl,
    ...(o.natsTlsCaFile ? { NATS_TLS_CA_FILE: o.natsTlsCaFile } : {}),
    ...settingsToEnv({
      ...o.limits,
      // Several heartbeats per timeout window, so one late beat never fails a healthy build.
      heartbeatIntervalMs: Math.max(250, Math.floor(o.limits.heartbeatTimeoutMs / 4)),
    }),
  };
}

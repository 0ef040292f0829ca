import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { EndpointContext } from './context.js';
import { FaultPlan } from './fault-plan.js';
import { createFaults } from './faults.js';
import { createEcsServer } from './http-server.js';
import { TaskDefinitionRegistry } from './task-definitions.js';
import { TaskRunner } from './task-runner.js';
import { TaskStore } from './task-store.js';
import type { EcsEndpoint, EcsEndpointOptions, RecordedEcsRequest } from './types.js';

const DEFAULT_ACCOUNT_ID = '000000000000';
const DEFAULT_CLUSTERS = ['deploysphere-builds'];
const HOST = '127.0.0.1';

/**
 * Starts a local stand-in for one region's ECS API (docs/local-ecs-endpoint.md). The real
 * `@aws-sdk/client-ecs` talks to it through its `endpoint` option with any credentials;
 * RunTask runs the task definition's command as a local process.
 *
 * It listens on loopback only: whoever can reach it can start the configured commands.
 */
export async function startEcsEndpoint(opts: EcsEndpointOptions): Promise<EcsEndpoint> {
  const scope = { region: opts.region, accountId: opts.accountId ?? DEFAULT_ACCOUNT_ID };
  await mkdir(opts.logDir, { recursive: true });
  const runner = new TaskRunner(opts.logDir);
  const ctx: EndpointContext = {
    scope,
    clusters: new Set(opts.clusters ?? DEFAULT_CLUSTERS),
    definitions: new TaskDefinitionRegistry(scope, opts.taskDefinitions),
    store: new TaskStore(scope),
    runner,
    faults: new FaultPlan(),
  };
  const faults = createFaults(ctx);
  const requests: RecordedEcsRequest[] = [];
  const server = createEcsServer({ ctx, faults, requests });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  ctx.url = `http://${HOST}:${port}`;

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // The SDK keeps connections alive; without this, close() would wait for them to idle out.
    server.closeAllConnections();
    await runner.close();
    await closed;
  };
  return {
    url: ctx.url,
    region: opts.region,
    requests,
    faults,
    stop: () => (stopping ??= stop()),
  };
}

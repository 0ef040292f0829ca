import type { DeploymentView } from '@deploysphere/contracts';
import { QueryClient, type InfiniteData } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { deploymentId, deploymentView } from '../test/fixtures.js';
import { patchDeployment, rememberDeployment } from './cache.js';
import { queryKeys } from './query-keys.js';

type History = InfiniteData<DeploymentView[], string | undefined>;

function clientWithHistory(pages: DeploymentView[][]) {
  const client = new QueryClient();
  client.setQueryData<History>(queryKeys.deploymentHistory('web'), {
    pages,
    pageParams: pages.map((_, i) => (i === 0 ? undefined : pages[i - 1]!.at(-1)!.id)),
  });
  return client;
}
const ids = (client: QueryClient) =>
  client.getQueryData<History>(queryKeys.deploymentHistory('web'))!.pages.map((p) => p.map((d) => d.id));

describe('query cache writes', () => {
  it('puts a new deployment at the top of the history, keeping every loaded page', () => {
    const client = clientWithHistory([
      [deploymentView({ id: deploymentId(3) })],
      [deploymentView({ id: deploymentId(2) })],
    ]);
    const started = deploymentView({ id: deploymentId(4), status: 'queued' });
    rememberDeployment(client, started);
    expect(ids(client)).toEqual([[deploymentId(4), deploymentId(3)], [deploymentId(2)]]);
    expect(client.getQueryData(queryKeys.deployment(deploymentId(4)))).toEqual(started);
    // Remembering it again (a cancel) replaces it in place.
    rememberDeployment(client, { ...started, status: 'cancelled' });
    expect(ids(client)[0]).toEqual([deploymentId(4), deploymentId(3)]);
  });

  it('writes a pushed status into the deployment and into its history row', () => {
    const building = deploymentView({ id: deploymentId(3), status: 'building', phase: 'build' });
    const client = clientWithHistory([[building]]);
    client.setQueryData(queryKeys.deployment(building.id), building);
    patchDeployment(client, building.id, { status: 'error', phase: null, error: 'exit 3' });
    expect(client.getQueryData<DeploymentView>(queryKeys.deployment(building.id))).toMatchObject({
      status: 'error',
      error: 'exit 3',
    });
    expect(client.getQueryData<History>(queryKeys.deploymentHistory('web'))!.pages[0]![0]).toMatchObject({
      status: 'error',
      phase: null,
    });
  });
});

import type { DeploymentView, ProjectView } from '@deploysphere/contracts';
import type { InfiniteData, QueryClient } from '@tanstack/react-query';
import { queryKeys } from './query-keys.js';

/**
 * Writes into the query cache after a mutation or a websocket message, so every view showing
 * the same deployment or project agrees at once instead of waiting for its next fetch.
 */

type HistoryData = InfiniteData<DeploymentView[], string | undefined>;

function updateHistory(
  client: QueryClient,
  slug: string,
  update: (pages: DeploymentView[][]) => DeploymentView[][],
) {
  client.setQueryData<HistoryData>(queryKeys.deploymentHistory(slug), (old) =>
    old ? { ...old, pages: update(old.pages) } : old,
  );
}

/** A deployment just started or changed (redeploy, quick deploy, cancel): the view, the history, the lists. */
export function rememberDeployment(client: QueryClient, d: DeploymentView): void {
  client.setQueryData(queryKeys.deployment(d.id), d);
  updateHistory(client, d.projectSlug, (pages) => {
    const known = pages.some((page) => page.some((x) => x.id === d.id));
    if (known) return pages.map((page) => page.map((x) => (x.id === d.id ? d : x)));
    // Newest first: a new deployment heads the first page until the next refetch re-pages it.
    return pages.map((page, i) => (i === 0 ? [d, ...page] : page));
  });
  refreshProject(client, d.projectSlug);
}

/** A status change pushed over the websocket, written wherever the deployment is shown. */
export function patchDeployment(
  client: QueryClient,
  id: string,
  patch: Pick<DeploymentView, 'status' | 'phase' | 'error'>,
): void {
  const view = client.setQueryData<DeploymentView>(queryKeys.deployment(id), (old) =>
    old ? { ...old, ...patch } : old,
  );
  if (view) {
    updateHistory(client, view.projectSlug, (pages) =>
      pages.map((page) => page.map((x) => (x.id === id ? { ...x, ...patch } : x))),
    );
  }
}

/**
 * A deployment finished: the status message carries no stats or finish time, and the project
 * may have a new production deployment, so refetch what shows them.
 */
export function deploymentFinished(client: QueryClient, id: string): void {
  void client.invalidateQueries({ queryKey: queryKeys.deployment(id), exact: true });
  const slug = client.getQueryData<DeploymentView>(queryKeys.deployment(id))?.projectSlug;
  if (slug) refreshProject(client, slug);
}

/** The project as the API just answered it (a settings save, a domain change). */
export function rememberProject(client: QueryClient, project: ProjectView): void {
  client.setQueryData(queryKeys.project(project.slug), project);
  void client.invalidateQueries({ queryKey: queryKeys.projectList, refetchType: 'all' });
}

/** The project was deleted: nothing of it should show again, not even from the cache. */
export function forgetProject(client: QueryClient, slug: string): void {
  client.removeQueries({ queryKey: queryKeys.project(slug) });
  client.removeQueries({ queryKey: queryKeys.slugAvailability(slug) });
  void client.invalidateQueries({ queryKey: queryKeys.projectList, refetchType: 'all' });
}

/**
 * Refetches the project, its history and the project list, also when no screen shows them right
 * now, so going back to one never flashes an out-of-date list (a missing deployment, or an empty
 * project list) before the fresh one arrives.
 */
function refreshProject(client: QueryClient, slug: string): void {
  for (const queryKey of [
    queryKeys.project(slug),
    queryKeys.deploymentHistory(slug),
    queryKeys.projectList,
  ]) {
    void client.invalidateQueries({ queryKey, exact: true, refetchType: 'all' });
  }
  client.removeQueries({ queryKey: queryKeys.slugAvailability(slug) });
}

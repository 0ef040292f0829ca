import {
  type AuditAction,
  DEPLOYMENT_LOGS_MAX_LIMIT,
  TERMINAL_STATUSES,
  type DeploymentTarget,
  type DeploymentView,
  type TrafficWindow,
} from '@deploysphere/contracts';
import { infiniteQueryOptions, keepPreviousData, queryOptions } from '@tanstack/react-query';
import { appendLogLines, NO_LOG_LINES, type LogLines } from '../lib/log-lines.js';
import { api } from './endpoints.js';
import { queryKeys } from './query-keys.js';

/**
 * What each query fetches and how it stays fresh; components pick these up with `useQuery`.
 * Polling lives here, as `refetchInterval`, and stops on its own once there is nothing to watch.
 */

export const HISTORY_PAGE_SIZE = 20;
/** Only the REST view carries upload bytes and phase timings, so it is polled while a build runs. */
const DEPLOYMENT_POLL_MS = 1000;
/** History rows of running deployments change under the list. */
const HISTORY_POLL_MS = 2000;
const TRAFFIC_REFRESH_MS = 15_000;
const DELIVERIES_REFRESH_MS = 10_000;

export const isFinished = (d: Pick<DeploymentView, 'status'>) => TERMINAL_STATUSES.has(d.status);
const isUnsettled = (d: DeploymentView) => d.status === 'queued' || d.status === 'building';

export const sessionQuery = () =>
  queryOptions({
    queryKey: queryKeys.session,
    queryFn: ({ signal }) => api.session(signal),
    // Changed only by signing in or out, or by a 401, each of which writes it directly. An error
    // shows at once on the sign-in page rather than after retries.
    staleTime: Infinity,
    retry: false,
  });

/** The configured sign-in providers change only with the control plane's config. */
export const authProvidersQuery = () =>
  queryOptions({
    queryKey: queryKeys.authProviders,
    queryFn: ({ signal }) => api.authProviders(signal),
    staleTime: Infinity,
    retry: false,
  });

/**
 * Who the session acts as. Roles change rarely and only through the team page (which refetches
 * it) or another owner, so a minute is fresh enough; the API refuses a stale role anyway.
 */
export const meQuery = () =>
  queryOptions({ queryKey: queryKeys.me, queryFn: ({ signal }) => api.me(signal), staleTime: 60_000 });

export const membersQuery = (team: string) =>
  queryOptions({ queryKey: queryKeys.members(team), queryFn: ({ signal }) => api.members(team, signal) });

export const AUDIT_PAGE_SIZE = 50;

/**
 * A team's audit log, newest first, one page per `nextBefore` cursor. Entries never change once
 * written, so a refetch re-pages from the top and loaded "older" pages stay where they were.
 */
export const auditQuery = (
  team: string,
  filter: { action?: AuditAction | undefined; actor?: string | undefined },
) =>
  infiniteQueryOptions({
    queryKey: queryKeys.audit(team, filter),
    queryFn: ({ pageParam, signal }) =>
      api.audit(team, { limit: AUDIT_PAGE_SIZE, before: pageParam, ...filter }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextBefore ?? undefined,
  });

export const tokensQuery = () =>
  queryOptions({ queryKey: queryKeys.tokens, queryFn: ({ signal }) => api.tokens(signal) });

/** The configured regions and the sites' URL pattern are fixed while the control plane runs. */
export const regionsQuery = () =>
  queryOptions({
    queryKey: queryKeys.regions,
    queryFn: ({ signal }) => api.regions(signal),
    staleTime: Infinity,
  });

export const sitesQuery = () =>
  queryOptions({
    queryKey: queryKeys.sites,
    queryFn: ({ signal }) => api.sites(signal),
    staleTime: Infinity,
  });

export const projectListQuery = () =>
  queryOptions({ queryKey: queryKeys.projectList, queryFn: ({ signal }) => api.projects(signal) });

export const projectQuery = (slug: string) =>
  queryOptions({ queryKey: queryKeys.project(slug), queryFn: ({ signal }) => api.project(slug, signal) });

/** The project using `slug`, or null when it is free. Always asked afresh: a cached "free" may be stale. */
export const slugAvailabilityQuery = (slug: string) =>
  queryOptions({
    queryKey: queryKeys.slugAvailability(slug),
    queryFn: async ({ signal }) => (await api.findProject(slug, signal)) ?? null,
    staleTime: 0,
  });

/**
 * Newest first, one page per `before` cursor. A refetch (polling, invalidation) refetches every
 * loaded page from the first, each from the previous page's last id, so "Load older" pages stay.
 */
export const deploymentHistoryQuery = (
  slug: string,
  filter: { target?: DeploymentTarget | undefined; branch?: string | undefined } = {},
) =>
  infiniteQueryOptions({
    // Unfiltered, the key the cache writes (cache.ts) update; a filtered list refetches instead.
    queryKey:
      filter.target || filter.branch
        ? queryKeys.filteredHistory(slug, filter)
        : queryKeys.deploymentHistory(slug),
    queryFn: ({ pageParam, signal }) =>
      api.deployments(slug, { limit: HISTORY_PAGE_SIZE, before: pageParam, ...filter }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => (last.length < HISTORY_PAGE_SIZE ? undefined : last.at(-1)?.id),
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.some(isUnsettled)) ? HISTORY_POLL_MS : false,
  });

/** What the project's deployments and build caches store (docs/retention.md). */
export const storageQuery = (slug: string) =>
  queryOptions({
    queryKey: queryKeys.storage(slug),
    queryFn: ({ signal }) => api.storage(slug, signal),
  });

export const trafficQuery = (slug: string, window: TrafficWindow) =>
  queryOptions({
    queryKey: queryKeys.traffic(slug, window),
    queryFn: ({ signal }) => api.traffic(slug, window, signal),
    refetchInterval: TRAFFIC_REFRESH_MS,
    // Switching the window keeps the last chart up until the new one arrives.
    placeholderData: keepPreviousData,
  });

export const deploymentQuery = (id: string) =>
  queryOptions({
    queryKey: queryKeys.deployment(id),
    queryFn: ({ signal }) => api.deployment(id, signal),
    refetchInterval: (query) => {
      const d = query.state.data;
      return d && !isFinished(d) ? DEPLOYMENT_POLL_MS : false;
    },
  });

/**
 * A deployment's log lines. The websocket writes them into this entry as they arrive; fetching
 * it (only when the socket cannot be opened) reads every line after the last one held.
 */
export const deploymentLogsQuery = (id: string) =>
  queryOptions({
    queryKey: queryKeys.deploymentLogs(id),
    queryFn: async ({ client, signal }): Promise<LogLines> => {
      let log = client.getQueryData<LogLines>(queryKeys.deploymentLogs(id)) ?? NO_LOG_LINES;
      for (;;) {
        const page = await api.logs(id, log.lastSeq, signal);
        log = appendLogLines(log, page.lines);
        // A full page means there may be more right behind it.
        if (page.lines.length < DEPLOYMENT_LOGS_MAX_LIMIT) break;
      }
      return log;
    },
    // Snapshots share their array (see log-lines.ts); comparing 100,000 lines deeply would undo that.
    structuralSharing: false,
  });

/** A project's connected hooks; they change only through the Git card, which invalidates them. */
export const webhooksQuery = (slug: string) =>
  queryOptions({ queryKey: queryKeys.webhooks(slug), queryFn: ({ signal }) => api.webhooks(slug, signal) });

/** Recent deliveries: refreshed now and then, since pushes arrive whenever the provider sends them. */
export const deliveriesQuery = (slug: string) =>
  queryOptions({
    queryKey: queryKeys.deliveries(slug),
    queryFn: ({ signal }) => api.deliveries(slug, signal),
    refetchInterval: DELIVERIES_REFRESH_MS,
  });

import type { TrafficWindow } from '@deploysphere/contracts';

/**
 * Every TanStack Query key the dashboard uses, in one place, so a cache write or an invalidation
 * can never miss a reader by spelling its key differently.
 *
 * A project's keys all start with `['project', slug]`, so invalidating that prefix refreshes the
 * project, its history and its traffic together. Lists and lookups sit under their own roots: a
 * slug can be any word, so `['project', 'list']` would collide with a project called "list".
 */
export const queryKeys = {
  session: ['session'] as const,
  authProviders: ['auth-providers'] as const,
  /** Who the session acts as: its user, teams and roles (`GET /me`). */
  me: ['me'] as const,
  /** A team's members; team slugs live under their own root, apart from project slugs. */
  members: (team: string) => ['team', team, 'members'] as const,
  /** A team's audit log, per filter (an empty string: not filtered). */
  audit: (team: string, filter: { action?: string | undefined; actor?: string | undefined }) =>
    ['team', team, 'audit', filter.action ?? '', filter.actor ?? ''] as const,
  tokens: ['tokens'] as const,
  regions: ['regions'] as const,
  sites: ['sites'] as const,
  projectList: ['project-list'] as const,
  /** The availability check of the new-deployment form. */
  slugAvailability: (slug: string) => ['slug-availability', slug] as const,
  slugAvailabilityAll: ['slug-availability'] as const,
  project: (slug: string) => ['project', slug] as const,
  deploymentHistory: (slug: string) => ['project', slug, 'deployments'] as const,
  /** The history filtered to production or previews: under the history's key, so its invalidations reach it. */
  filteredHistory: (slug: string, filter: { target?: string | undefined; branch?: string | undefined }) =>
    ['project', slug, 'deployments', filter.target ?? 'all', filter.branch ?? ''] as const,
  webhooks: (slug: string) => ['project', slug, 'webhooks'] as const,
  deliveries: (slug: string) => ['project', slug, 'deliveries'] as const,
  traffic: (slug: string, window: TrafficWindow) => ['project', slug, 'traffic', window] as const,
  storage: (slug: string) => ['project', slug, 'storage'] as const,
  deployment: (id: string) => ['deployment', id] as const,
  /** Kept apart from the deployment's key, so refreshing the view never refetches its lines. */
  deploymentLogs: (id: string) => ['deployment-logs', id] as const,
};

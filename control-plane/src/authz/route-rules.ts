import type { Capability } from './principal.js';

/**
 * What each `/api/v1` route needs, keyed by `METHOD url` exactly as Fastify registers it. One
 * table, so the whole policy reads in one place and a test can check that every route has a rule.
 * - `signed-in`: any principal (what it returns is filtered by what the principal may see);
 * - `user`: a signed-in user's own session (their tokens); an API token cannot mint tokens;
 * - `platform`: the operator's bootstrap admin token only (storage garbage collection);
 * - `project` / `deployment` / `team`: the `:slug`, `:id` or `:team` param names the resource,
 *   and the caller needs `need` in the team that owns it. A caller outside that team gets the
 *   same 404 as for a resource that does not exist.
 * - `new-project`: creates a project in `body.team` (or the caller's default team), or acts on
 *   the existing project `body.slug` names (`POST /deployments`).
 */
export type RouteRule =
  | { on: 'signed-in' }
  | { on: 'user' }
  | { on: 'platform' }
  | { on: 'project' | 'deployment' | 'team' | 'new-project'; need: Capability };

const P = '/api/v1';

export const ROUTE_RULES: Readonly<Record<string, RouteRule>> = {
  // Platform
  [`GET ${P}/regions`]: { on: 'signed-in' },
  [`GET ${P}/sites`]: { on: 'signed-in' },
  [`GET ${P}/me`]: { on: 'signed-in' },

  // Teams and members
  [`GET ${P}/teams`]: { on: 'signed-in' },
  [`POST ${P}/teams`]: { on: 'user' },
  [`PATCH ${P}/teams/:team`]: { on: 'team', need: 'admin' },
  [`GET ${P}/teams/:team/members`]: { on: 'team', need: 'read' },
  [`PATCH ${P}/teams/:team/members/:userId`]: { on: 'team', need: 'admin' },
  [`DELETE ${P}/teams/:team/members/:userId`]: { on: 'team', need: 'admin' },
  [`POST ${P}/teams/:team/invitations`]: { on: 'team', need: 'admin' },
  [`GET ${P}/teams/:team/audit`]: { on: 'team', need: 'admin' },

  // API tokens
  [`GET ${P}/sessions`]: { on: 'user' },
  [`DELETE ${P}/sessions/:sessionId`]: { on: 'user' },
  [`GET ${P}/tokens`]: { on: 'user' },
  [`POST ${P}/tokens`]: { on: 'user' },
  [`DELETE ${P}/tokens/:tokenId`]: { on: 'user' },

  // Projects
  [`GET ${P}/projects`]: { on: 'signed-in' },
  [`POST ${P}/projects`]: { on: 'new-project', need: 'deploy' },
  [`GET ${P}/projects/:slug`]: { on: 'project', need: 'read' },
  [`PATCH ${P}/projects/:slug`]: { on: 'project', need: 'deploy' },
  [`DELETE ${P}/projects/:slug`]: { on: 'project', need: 'admin' },
  [`POST ${P}/projects/:slug/domains`]: { on: 'project', need: 'deploy' },
  [`DELETE ${P}/projects/:slug/domains/:hostname`]: { on: 'project', need: 'deploy' },
  [`GET ${P}/projects/:slug/deployments`]: { on: 'project', need: 'read' },
  [`POST ${P}/projects/:slug/deployments`]: { on: 'project', need: 'deploy' },
  [`POST ${P}/projects/:slug/promote`]: { on: 'project', need: 'deploy' },
  [`GET ${P}/projects/:slug/traffic`]: { on: 'project', need: 'read' },

  // Git webhooks: their secrets and API tokens are credentials, so only owners set them.
  [`POST ${P}/projects/:slug/webhook`]: { on: 'project', need: 'admin' },
  [`GET ${P}/projects/:slug/webhooks`]: { on: 'project', need: 'read' },
  [`DELETE ${P}/projects/:slug/webhooks/:provider`]: { on: 'project', need: 'admin' },
  [`PUT ${P}/projects/:slug/webhooks/:provider/token`]: { on: 'project', need: 'admin' },
  [`DELETE ${P}/projects/:slug/webhooks/:provider/token`]: { on: 'project', need: 'admin' },
  [`GET ${P}/projects/:slug/git-credential`]: { on: 'project', need: 'read' },
  [`PUT ${P}/projects/:slug/git-credential`]: { on: 'project', need: 'admin' },
  [`DELETE ${P}/projects/:slug/git-credential`]: { on: 'project', need: 'admin' },
  [`POST ${P}/projects/:slug/deploy-key`]: { on: 'project', need: 'admin' },
  [`PUT ${P}/projects/:slug/deploy-key/known-hosts`]: { on: 'project', need: 'admin' },
  [`GET ${P}/projects/:slug/deploy-hooks`]: { on: 'project', need: 'read' },
  [`POST ${P}/projects/:slug/deploy-hooks`]: { on: 'project', need: 'admin' },
  [`DELETE ${P}/projects/:slug/deploy-hooks/:hookId`]: { on: 'project', need: 'admin' },
  [`GET ${P}/projects/:slug/watch-paths`]: { on: 'project', need: 'read' },
  [`PUT ${P}/projects/:slug/watch-paths`]: { on: 'project', need: 'deploy' },
  [`GET ${P}/projects/:slug/deliveries`]: { on: 'project', need: 'read' },

  // Deployments and their logs
  [`POST ${P}/deployments`]: { on: 'new-project', need: 'deploy' },
  [`GET ${P}/deployments/:id`]: { on: 'deployment', need: 'read' },
  [`POST ${P}/deployments/:id/cancel`]: { on: 'deployment', need: 'deploy' },
  [`GET ${P}/deployments/:id/logs`]: { on: 'deployment', need: 'read' },
  [`GET ${P}/deployments/:id/logs/stream`]: { on: 'deployment', need: 'read' },
  [`GET ${P}/logs/search`]: { on: 'signed-in' },

  // CLI deploys: create names the project by slug (a new one is created in the caller's team).
  [`POST ${P}/cli-deploys`]: { on: 'new-project', need: 'deploy' },
  [`POST ${P}/cli-deploys/:id/finalize`]: { on: 'deployment', need: 'deploy' },
  [`POST ${P}/cli-deploys/:id/heartbeat`]: { on: 'deployment', need: 'deploy' },
  [`POST ${P}/cli-deploys/:id/landed`]: { on: 'deployment', need: 'deploy' },
  [`POST ${P}/cli-deploys/source`]: { on: 'new-project', need: 'deploy' },
  [`POST ${P}/cli-deploys/:id/build`]: { on: 'deployment', need: 'deploy' },

  // Storage: a project's usage is its team's; garbage collection spans every team's buckets.
  [`GET ${P}/projects/:slug/storage`]: { on: 'project', need: 'read' },
  [`POST ${P}/gc/runs`]: { on: 'platform' },
  [`GET ${P}/gc/runs/latest`]: { on: 'platform' },
  [`GET ${P}/gc/runs/:id`]: { on: 'platform' },
};

export function ruleFor(method: string, url: string): RouteRule | undefined {
  return ROUTE_RULES[`${method} ${url}`];
}

import type { AuditAction } from '@deploysphere/contracts';

/** What a request did, as the audit log records it. */
export interface AuditedAction {
  action: AuditAction;
  target: string;
  details: Record<string, unknown>;
  /** The team it belongs to, when the request created it (a new team). */
  teamId?: string;
}

interface Request {
  params: Record<string, string | undefined>;
  body: Record<string, unknown>;
  /** The parsed response, for ids the request created. */
  result: Record<string, unknown>;
}

type Describe = (r: Request) => AuditedAction[];

const P = '/api/v1';
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const keys = (v: unknown) => (v && typeof v === 'object' ? Object.keys(v).sort() : []);
const one =
  (
    action: AuditAction,
    target: (r: Request) => string,
    details: (r: Request) => Record<string, unknown> = () => ({}),
  ) =>
  (r: Request): AuditedAction[] => [{ action, target: target(r), details: details(r) }];

/**
 * The audited routes: every successful change a team would ask "who did this?" about. Details
 * carry names only (setting names, env keys, roles), never values: bodies hold secrets.
 */
/**
 * Changes deliberately not audited, with why: each is a step of something audited elsewhere, or
 * the platform's own housekeeping. audit-actions.test.ts fails for a change in neither list.
 */
export const NOT_AUDITED: Readonly<Record<string, string>> = {
  [`POST ${P}/cli-deploys/:id/finalize`]: 'a step of the CLI deploy audited at create',
  [`POST ${P}/cli-deploys/:id/heartbeat`]: 'keeps an audited CLI deploy alive',
  [`POST ${P}/cli-deploys/:id/landed`]: 'reports blobs of an audited CLI deploy as uploaded',
  [`POST ${P}/cli-deploys/:id/build`]: 'a step of the CLI source deploy audited at create',
  [`POST ${P}/gc/runs`]: "the operator's housekeeping, recorded as a GC run with its report",
};

export const AUDITED_ROUTES: Readonly<Record<string, Describe>> = {
  [`POST ${P}/projects`]: one(
    'project.create',
    (r) => str(r.body.slug),
    (r) => ({ envKeys: keys(r.body.env) }),
  ),
  [`PATCH ${P}/projects/:slug`]: (r) => {
    const slug = str(r.params.slug);
    const settings = keys(r.body).filter((k) => k !== 'env');
    const out: AuditedAction[] = [];
    if (settings.length > 0) out.push({ action: 'project.update', target: slug, details: { settings } });
    if (r.body.env !== undefined)
      out.push({ action: 'env.update', target: slug, details: { keys: keys(r.body.env) } });
    return out;
  },
  [`DELETE ${P}/projects/:slug`]: one('project.delete', (r) => str(r.params.slug)),
  [`POST ${P}/projects/:slug/domains`]: one(
    'domain.add',
    (r) => str(r.params.slug),
    (r) => ({ hostname: r.body.hostname }),
  ),
  [`DELETE ${P}/projects/:slug/domains/:hostname`]: one(
    'domain.remove',
    (r) => str(r.params.slug),
    (r) => ({ hostname: r.params.hostname }),
  ),
  [`POST ${P}/projects/:slug/deployments`]: one(
    'deployment.create',
    (r) => str(r.result.id),
    (r) => ({ project: r.params.slug, withoutCache: r.body.withoutCache === true }),
  ),
  [`POST ${P}/deployments`]: one(
    'deployment.create',
    (r) => str(r.result.id),
    (r) => ({ project: r.body.slug }),
  ),
  [`POST ${P}/cli-deploys`]: one(
    'deployment.create',
    (r) => str((r.result.deployment as Record<string, unknown> | undefined)?.id ?? r.result.id),
    (r) => ({ project: r.body.slug, source: 'cli' }),
  ),
  [`POST ${P}/cli-deploys/source`]: one(
    'deployment.create',
    (r) => str((r.result.deployment as Record<string, unknown> | undefined)?.id),
    (r) => ({
      project: r.body.slug,
      source: 'cli',
      archiveBytes: (r.body.archive as { size?: number })?.size ?? null,
    }),
  ),
  [`POST ${P}/projects/:slug/promote`]: one(
    'deployment.promote',
    (r) => str(r.body.deploymentId),
    (r) => ({ project: r.params.slug }),
  ),
  [`POST ${P}/deployments/:id/cancel`]: one('deployment.cancel', (r) => str(r.params.id)),
  [`POST ${P}/projects/:slug/webhook`]: one(
    'webhook.create',
    (r) => str(r.params.slug),
    (r) => ({ provider: r.body.provider ?? null }),
  ),
  [`DELETE ${P}/projects/:slug/webhooks/:provider`]: one(
    'webhook.delete',
    (r) => str(r.params.slug),
    (r) => ({ provider: r.params.provider }),
  ),
  [`PUT ${P}/projects/:slug/webhooks/:provider/token`]: one(
    'webhook.token_set',
    (r) => str(r.params.slug),
    (r) => ({ provider: r.params.provider }),
  ),
  [`DELETE ${P}/projects/:slug/webhooks/:provider/token`]: one(
    'webhook.token_remove',
    (r) => str(r.params.slug),
    (r) => ({ provider: r.params.provider }),
  ),
  [`PUT ${P}/projects/:slug/git-credential`]: one('git_credential.set', (r) => str(r.params.slug)),
  [`DELETE ${P}/projects/:slug/git-credential`]: one('git_credential.remove', (r) => str(r.params.slug)),
  [`POST ${P}/projects/:slug/deploy-key`]: one('deploy_key.create', (r) => str(r.params.slug)),
  [`PUT ${P}/projects/:slug/deploy-key/known-hosts`]: one('deploy_key.known_hosts_set', (r) =>
    str(r.params.slug),
  ),
  [`POST ${P}/projects/:slug/deploy-hooks`]: one(
    'deploy_hook.create',
    (r) => str(r.params.slug),
    (r) => ({ id: r.result.id ?? null, branch: r.body.branch ?? null }),
  ),
  [`DELETE ${P}/projects/:slug/deploy-hooks/:hookId`]: one(
    'deploy_hook.delete',
    (r) => str(r.params.slug),
    (r) => ({ id: r.params.hookId }),
  ),
  [`PUT ${P}/projects/:slug/watch-paths`]: one('watch_paths.update', (r) => str(r.params.slug)),
  [`POST ${P}/teams`]: (r) => [
    { action: 'team.create', target: str(r.body.slug), details: {}, teamId: str(r.result.id) },
  ],
  [`PATCH ${P}/teams/:team`]: one(
    'team.update',
    (r) => str(r.params.team),
    (r) => ({ settings: keys(r.body), maxProjects: r.body.maxProjects ?? null }),
  ),
  [`POST ${P}/teams/:team/invitations`]: one(
    'member.invite',
    (r) => str(r.body.email),
    (r) => ({ role: r.result.role ?? r.body.role }),
  ),
  [`PATCH ${P}/teams/:team/members/:userId`]: one(
    'member.role_change',
    (r) => str(r.params.userId),
    (r) => ({ role: r.body.role }),
  ),
  [`DELETE ${P}/teams/:team/members/:userId`]: one('member.remove', (r) => str(r.params.userId)),
  [`POST ${P}/tokens`]: one(
    'token.create',
    (r) => str(r.body.name),
    (r) => ({
      id: r.result.id,
      scopes: r.body.scopes,
      team: r.body.team ?? null,
      project: r.body.project ?? null,
    }),
  ),
  [`DELETE ${P}/tokens/:tokenId`]: one('token.revoke', (r) => str(r.params.tokenId)),
  [`DELETE ${P}/sessions/:sessionId`]: one('session.revoke', (r) => str(r.params.sessionId)),
};

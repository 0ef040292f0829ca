import type { TeamRole, TokenScope } from '@deploysphere/contracts';

/** What a request may do to a resource: read it, deploy or change its settings, or administer it. */
export type Capability = 'read' | 'deploy' | 'admin';

const RANK: Record<Capability, number> = { read: 1, deploy: 2, admin: 3 };
const ROLE_CAPABILITY: Record<TeamRole, Capability> = { viewer: 'read', member: 'deploy', owner: 'admin' };

/** The id of the team that owns projects created without one; the admin token is its owner. */
export const DEFAULT_TEAM_ID = 'default';

/**
 * Who a request acts as, resolved once per request by the authentication hook.
 * - root: the bootstrap admin token (bearer or its session): owner of the default team only;
 * - user: a signed-in user's session, with their memberships;
 * - token: a user's API token, capped by its scopes and restrictions as well as the user's roles.
 */
export interface Principal {
  kind: 'root' | 'user' | 'token';
  userId: string | null;
  tokenId: string | null;
  /** team id → the role in it */
  roles: ReadonlyMap<string, TeamRole>;
  /** The highest capability a token's scopes grant; admin for sessions and the admin token. */
  scopeCap: Capability;
  scopes: TokenScope[];
  /** A token restricted to one team or one project (ids). */
  teamId: string | null;
  projectId: string | null;
}

export type Access = 'allowed' | 'forbidden' | 'hidden';

/**
 * Whether the principal may do `need` to something owned by `teamId` (and, for project
 * resources, `projectId`). `hidden` means it must not even learn the resource exists: a 404.
 */
export function access(p: Principal, need: Capability, teamId: string, projectId?: string): Access {
  const role = p.roles.get(teamId);
  if (!role) return 'hidden';
  if (p.teamId !== null && p.teamId !== teamId) return 'hidden';
  if (p.projectId !== null && projectId !== p.projectId) return 'hidden';
  const cap = Math.min(RANK[ROLE_CAPABILITY[role]], RANK[p.scopeCap]);
  return RANK[need] <= cap ? 'allowed' : 'forbidden';
}

/** Which projects a principal may see: those of `teamIds`, and only `projectId` when it is set. */
export interface ProjectVisibility {
  teamIds: string[];
  projectId: string | null;
}

/** The projects `v` admits, as a Prisma filter (narrowed to one slug when given). */
export function visibleProjectsWhere(v: ProjectVisibility, slug?: string) {
  return {
    teamId: { in: v.teamIds },
    ...(v.projectId !== null ? { id: v.projectId } : {}),
    ...(slug !== undefined ? { slug } : {}),
  };
}

export function visibility(p: Principal): ProjectVisibility {
  const teams = [...p.roles.keys()];
  return { teamIds: p.teamId !== null ? teams.filter((t) => t === p.teamId) : teams, projectId: p.projectId };
}

export function scopeCap(scopes: readonly TokenScope[]): Capability {
  return scopes.reduce<Capability>((best, s) => (RANK[s] > RANK[best] ? s : best), 'read');
}

export function rootPrincipal(): Principal {
  return {
    kind: 'root',
    userId: null,
    tokenId: null,
    roles: new Map([[DEFAULT_TEAM_ID, 'owner']]),
    scopeCap: 'admin',
    scopes: ['read', 'deploy', 'admin'],
    teamId: null,
    projectId: null,
  };
}

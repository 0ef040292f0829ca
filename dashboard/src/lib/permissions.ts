import type { MeView, TeamRole, TeamView, TokenScope } from '@deploysphere/contracts';

/**
 * What the dashboard offers to the signed-in caller. Only presentation: the API decides every
 * request by itself (route-rules.ts), so a stale or missing answer here shows a button the API
 * then refuses, never grants anything.
 */
export interface Permissions {
  /** Deploy, redeploy, promote, cancel and change project settings. */
  deploy: boolean;
}

const RANK: Record<TeamRole, number> = { viewer: 0, member: 1, owner: 2 };
const SCOPE_RANK: Record<TokenScope, number> = { read: 0, deploy: 1, admin: 2 };

/** The strongest of the caller's scopes: read ⊂ deploy ⊂ admin. */
function scopeRank(scopes: readonly TokenScope[]): number {
  return Math.max(-1, ...scopes.map((s) => SCOPE_RANK[s]));
}

/**
 * A project's view does not say which team it belongs to, so project actions are offered when
 * the caller may deploy in at least one of their teams: a viewer of every team sees none; a
 * viewer of one team and member of another sees them, and the API answers for the project.
 * While `/me` has not answered (or failed), everything is offered, as before accounts existed.
 */
export function permissionsOf(me: MeView | undefined): Permissions {
  if (!me) return { deploy: true };
  const role = Math.max(-1, ...me.teams.map((t) => RANK[t.role]));
  return { deploy: role >= RANK.member && scopeRank(me.scopes) >= SCOPE_RANK.deploy };
}

/** Owners (with an admin-scoped session) manage a team's members and invitations. */
export function canManageTeam(me: MeView | undefined, team: TeamView): boolean {
  return team.role === 'owner' && (me === undefined || scopeRank(me.scopes) >= SCOPE_RANK.admin);
}

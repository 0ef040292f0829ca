import {
  API_TOKEN_PREFIX,
  AppError,
  type AcceptInvitationBody,
  type CreatedInvitation,
  type CreatedToken,
  type CreateInvitationBody,
  type CreateTeamBody,
  type CreateTokenBody,
  type MemberView,
  type MeView,
  type TeamRole,
  type TeamView,
  type TokenScope,
  type TokenView,
  type UpdateTeamBody,
  type UserSessionView,
} from '@deploysphere/contracts';
import { Prisma, type Db } from '@deploysphere/db';
import { newId } from '../ids.js';
import { DEFAULT_TEAM_ID, scopeCap, type Principal } from '../authz/principal.js';
import { RateLimiter } from '../webhooks/rate-limiter.js';
import type { Outbox } from './outbox.js';
import { decoyHash, hashPassword, verifyPassword } from './password-hash.js';
import { newSecret, secretHash } from './secret-token.js';

export const USER_SESSION_MAX_AGE_SECONDS = 12 * 60 * 60;
const INVITATION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
const PASSWORD_RESET_LIFETIME_MS = 60 * 60 * 1000;
/** Failed sign-ins an account tolerates before each further attempt waits (doubling, up to the cap). */
const FREE_FAILURES = 5;
const MAX_BLOCK_MS = 15 * 60 * 1000;
/** lastUsedAt is written at most this often per token, so a busy CI token costs no write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface AccountServiceDeps {
  db: Db;
  /** The dashboard's public URL, for invitation and password reset links. */
  dashboardUrl: string;
  /** Where password reset links go. */
  outbox: Outbox;
  now?: () => number;
}

export interface SignedIn {
  cookieValue: string;
  expiresAt: Date;
  userId: string;
}

const TOKEN_PATTERN = new RegExp(`^${API_TOKEN_PREFIX}([a-z0-9]{24})_([A-Za-z0-9_-]{43})$`);
const SESSION_PATTERN = /^u\.([a-z0-9]{24})\.([A-Za-z0-9_-]{43})$/;

/**
 * Users, teams, memberships, invitations, sessions and API tokens: who a request is, and the
 * account operations. Which request may do what is decided in authz/, from the Principal made here.
 */
export class AccountService {
  private readonly now: () => number;
  /** Per client address: a guard against spraying passwords across many accounts. */
  private readonly signInsByIp = new RateLimiter({ burst: 20, perMinute: 20 });

  constructor(private readonly deps: AccountServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  private get db(): Db {
    return this.deps.db;
  }

  // --- who the request is -------------------------------------------------------------------

  /** An API token's principal; undefined for anything that is not a live token. */
  async principalForToken(presented: string): Promise<Principal | undefined> {
    const match = TOKEN_PATTERN.exec(presented);
    if (!match) return undefined;
    const token = await this.db.apiToken.findUnique({ where: { tokenHash: secretHash(presented) } });
    if (!token || token.id !== match[1] || token.revokedAt) return undefined;
    if (token.expiresAt && token.expiresAt.getTime() <= this.now()) return undefined;
    if (!token.lastUsedAt || this.now() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: new Date(this.now()) } });
    }
    const scopes = token.scopes as TokenScope[];
    return {
      ...(await this.userPrincipal(token.userId)),
      kind: 'token',
      tokenId: token.id,
      scopes,
      scopeCap: scopeCap(scopes),
      teamId: token.teamId,
      projectId: token.projectId,
    };
  }

  /** A user session cookie's principal; undefined for anything that is not a live session. */
  async principalForSession(cookieValue: string | undefined): Promise<Principal | undefined> {
    const session = await this.liveSession(cookieValue);
    return session ? this.userPrincipal(session.userId) : undefined;
  }

  private async liveSession(cookieValue: string | undefined) {
    const match = cookieValue ? SESSION_PATTERN.exec(cookieValue) : null;
    if (!match) return undefined;
    const session = await this.db.userSession.findUnique({ where: { id: match[1]! } });
    if (!session || session.revokedAt || session.expiresAt.getTime() <= this.now()) return undefined;
    return session.secretHash === secretHash(match[2]!) ? session : undefined;
  }

  /** When the cookie's session expires, if it is live. */
  async sessionExpiry(cookieValue: string | undefined): Promise<Date | undefined> {
    return (await this.liveSession(cookieValue))?.expiresAt;
  }

  private async userPrincipal(userId: string): Promise<Principal> {
    const memberships = await this.db.membership.findMany({ where: { userId } });
    return {
      kind: 'user',
      userId,
      tokenId: null,
      roles: new Map(memberships.map((m) => [m.teamId, m.role])),
      scopeCap: 'admin',
      scopes: ['read', 'deploy', 'admin'],
      teamId: null,
      projectId: null,
    };
  }

  async me(p: Principal): Promise<MeView> {
    const user = p.userId ? await this.db.user.findUnique({ where: { id: p.userId } }) : null;
    return {
      kind: p.kind,
      user: user ? { id: user.id, email: user.email, name: user.name } : null,
      teams: await this.teamsOf(p),
      scopes: p.scopes,
    };
  }

  // --- sign-in ------------------------------------------------------------------------------

  /**
   * Email and password for a session. Every refusal reads the same, whether the email exists
   * or not, and unknown emails cost a hash too, so neither the answer nor its timing tells
   * which accounts exist. After FREE_FAILURES failures in a row an account waits, doubling up
   * to 15 minutes, before any password is checked again; each address has its own budget.
   */
  async signIn(
    email: string,
    password: string,
    client: { ip: string; userAgent?: string | undefined; previousCookie?: string | undefined },
  ): Promise<SignedIn> {
    const ipWait = this.signInsByIp.take(client.ip);
    if (ipWait > 0) throw tooManySignIns(ipWait);
    const user = await this.db.user.findUnique({ where: { email } });
    if (user?.signInBlockedUntil && user.signInBlockedUntil.getTime() > this.now()) {
      throw tooManySignIns(Math.ceil((user.signInBlockedUntil.getTime() - this.now()) / 1000));
    }
    const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()));
    if (!user || !user.passwordHash || !ok) {
      if (user) {
        const failures = user.failedSignIns + 1;
        const blockMs =
          failures >= FREE_FAILURES ? Math.min(MAX_BLOCK_MS, 1000 * 2 ** (failures - FREE_FAILURES)) : 0;
        await this.db.user.update({
          where: { id: user.id },
          data: {
            failedSignIns: failures,
            signInBlockedUntil: blockMs > 0 ? new Date(this.now() + blockMs) : null,
          },
        });
      }
      throw new AppError(401, 'unauthorized', 'That email and password do not match an account', {
        field: 'password',
      });
    }
    if (user.failedSignIns > 0) {
      await this.db.user.update({
        where: { id: user.id },
        data: { failedSignIns: 0, signInBlockedUntil: null },
      });
    }
    return this.startSession(user.id, client);
  }

  /** A session for a user another mechanism authenticated (OpenID Connect). */
  startSessionFor(
    userId: string,
    client: { ip: string; userAgent?: string | undefined; previousCookie?: string | undefined },
  ): Promise<SignedIn> {
    return this.startSession(userId, client);
  }

  /**
   * Single sign-on for someone not yet a user: spends their newest pending invitation and
   * creates them without a password. Undefined when no invitation waits for that email.
   */
  async joinByPendingInvitation(email: string, name: string): Promise<string | undefined> {
    return this.db.$transaction(async (tx) => {
      const invitation = await tx.invitation.findFirst({
        where: { email, acceptedAt: null, expiresAt: { gt: new Date(this.now()) } },
        orderBy: { createdAt: 'desc' },
      });
      if (!invitation) return undefined;
      const spent = await tx.invitation.updateMany({
        where: { id: invitation.id, acceptedAt: null },
        data: { acceptedAt: new Date(this.now()) },
      });
      if (spent.count !== 1) return undefined;
      const id = newId();
      await tx.user.create({ data: { id, email, name: name.slice(0, 100), passwordHash: null } });
      await tx.membership.create({ data: { teamId: invitation.teamId, userId: id, role: invitation.role } });
      return id;
    });
  }

  /** A new session; the one the browser held before (if any) is revoked, so ids rotate at sign-in. */
  private async startSession(
    userId: string,
    client: { ip: string; userAgent?: string | undefined; previousCookie?: string | undefined },
  ): Promise<SignedIn> {
    await this.signOut(client.previousCookie);
    const id = newId();
    const secret = newSecret();
    const expiresAt = new Date(this.now() + USER_SESSION_MAX_AGE_SECONDS * 1000);
    await this.db.userSession.create({
      data: {
        id,
        userId,
        secretHash: secretHash(secret),
        expiresAt,
        ip: client.ip,
        userAgent: client.userAgent?.slice(0, 300) ?? null,
      },
    });
    return { cookieValue: `u.${id}.${secret}`, expiresAt, userId };
  }

  /** The user's live sessions, newest first; `current` marks the one `cookieValue` holds. */
  async sessions(userId: string, cookieValue: string | undefined): Promise<UserSessionView[]> {
    const current = SESSION_PATTERN.exec(cookieValue ?? '')?.[1];
    const rows = await this.db.userSession.findMany({
      where: { userId, revokedAt: null, expiresAt: { gt: new Date(this.now()) } },
      orderBy: { createdAt: 'desc' },
    });
    return rows.map((s) => ({
      id: s.id,
      createdAt: s.createdAt.toISOString(),
      expiresAt: s.expiresAt.toISOString(),
      ip: s.ip,
      userAgent: s.userAgent,
      current: s.id === current,
    }));
  }

  /** Ends one of the user's sessions (another browser, or a lost device). */
  async revokeSession(userId: string, sessionId: string): Promise<void> {
    const revoked = await this.db.userSession.updateMany({
      where: { id: sessionId, userId, revokedAt: null },
      data: { revokedAt: new Date(this.now()) },
    });
    if (revoked.count === 0) throw AppError.notFound('Session', 'sessionId');
  }

  /** Revokes the cookie's session, if it is one. */
  async signOut(cookieValue: string | undefined): Promise<void> {
    const session = await this.liveSession(cookieValue);
    if (session) {
      await this.db.userSession.update({
        where: { id: session.id },
        data: { revokedAt: new Date(this.now()) },
      });
    }
  }

  // --- password reset -----------------------------------------------------------------------

  /**
   * Sends a one-time reset link to the account's email, if there is an account; the caller is
   * told the same either way. Each address's requests share the sign-in budget.
   */
  async requestPasswordReset(email: string, ip: string): Promise<void> {
    const wait = this.signInsByIp.take(ip);
    if (wait > 0) throw tooManySignIns(wait);
    const user = await this.db.user.findUnique({ where: { email } });
    if (!user) return;
    const id = newId();
    const secret = newSecret();
    await this.db.passwordReset.create({
      data: {
        id,
        userId: user.id,
        tokenHash: secretHash(secret),
        expiresAt: new Date(this.now() + PASSWORD_RESET_LIFETIME_MS),
      },
    });
    const link = `${this.deps.dashboardUrl.replace(/\/$/, '')}/reset-password#${id}.${secret}`;
    await this.deps.outbox.send({
      to: user.email,
      subject: 'Reset your DeploySphere password',
      text: `Someone asked to reset the password of ${user.email}. Within an hour, open:\n${link}\nIf it was not you, ignore this message.`,
    });
  }

  /**
   * Spends a reset link: sets the new password, ends every session of the account, clears its
   * sign-in backoff, and signs this browser in.
   */
  async confirmPasswordReset(
    token: string,
    password: string,
    client: { ip: string; userAgent?: string | undefined; previousCookie?: string | undefined },
  ): Promise<SignedIn> {
    const invalid = new AppError(400, 'invalid_reset', 'That reset link is not valid or has expired', {
      field: 'token',
    });
    const [id, secret] = token.split('.');
    if (!id || !secret) throw invalid;
    const reset = await this.db.passwordReset.findUnique({ where: { id } });
    if (
      !reset ||
      reset.usedAt ||
      reset.expiresAt.getTime() <= this.now() ||
      reset.tokenHash !== secretHash(secret)
    )
      throw invalid;
    const passwordHash = await hashPassword(password);
    await this.db.$transaction(async (tx) => {
      const spent = await tx.passwordReset.updateMany({
        where: { id, usedAt: null },
        data: { usedAt: new Date(this.now()) },
      });
      if (spent.count !== 1) throw invalid;
      await tx.user.update({
        where: { id: reset.userId },
        data: { passwordHash, failedSignIns: 0, signInBlockedUntil: null },
      });
      await tx.userSession.updateMany({
        where: { userId: reset.userId, revokedAt: null },
        data: { revokedAt: new Date(this.now()) },
      });
    });
    return this.startSession(reset.userId, client);
  }

  // --- teams and members --------------------------------------------------------------------

  async teamsOf(p: Principal): Promise<TeamView[]> {
    const ids = [...p.roles.keys()].filter((t) => p.teamId === null || t === p.teamId);
    const teams = await this.db.team.findMany({
      where: { id: { in: ids } },
      orderBy: { createdAt: 'asc' },
      include: { _count: { select: { projects: true } } },
    });
    return teams.map((t) => ({
      id: t.id,
      slug: t.slug,
      name: t.name,
      role: p.roles.get(t.id)!,
      maxProjects: t.maxProjects,
      projects: t._count.projects,
    }));
  }

  /** The team's id for its slug; undefined when there is none. Authorisation decides what the caller learns. */
  async teamId(slug: string): Promise<string | undefined> {
    return (await this.db.team.findUnique({ where: { slug }, select: { id: true } }))?.id;
  }

  async createTeam(p: Principal, body: CreateTeamBody): Promise<TeamView> {
    if (!p.userId) throw AppError.forbidden('Sign in as a user to create a team');
    const id = newId();
    try {
      await this.db.team.create({
        data: {
          id,
          slug: body.slug,
          name: body.name,
          memberships: { create: { userId: p.userId, role: 'owner' } },
        },
      });
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002')
        throw AppError.conflict(`slug: "${body.slug}" is already taken`, 'slug');
      throw err;
    }
    return { id, slug: body.slug, name: body.name, role: 'owner', maxProjects: null, projects: 0 };
  }

  /** An owner's change of the team's name or limits; returns the team as `p` sees it. */
  async updateTeam(p: Principal, teamId: string, body: UpdateTeamBody): Promise<TeamView> {
    await this.db.team.update({
      where: { id: teamId },
      data: {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.maxProjects !== undefined ? { maxProjects: body.maxProjects } : {}),
      },
    });
    return (await this.teamsOf({ ...p, teamId: null })).find((t) => t.id === teamId)!;
  }

  async members(teamId: string): Promise<MemberView[]> {
    const rows = await this.db.membership.findMany({
      where: { teamId },
      include: { user: true },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map((m) => ({
      userId: m.userId,
      email: m.user.email,
      name: m.user.name,
      role: m.role,
      joinedAt: m.createdAt.toISOString(),
    }));
  }

  async setRole(teamId: string, userId: string, role: TeamRole): Promise<MemberView> {
    await this.db.$transaction(async (tx) => {
      const member = await tx.membership.findUnique({ where: { teamId_userId: { teamId, userId } } });
      if (!member) throw AppError.notFound('Member', 'userId');
      if (member.role === 'owner' && role !== 'owner') await assertAnotherOwner(tx, teamId, userId);
      await tx.membership.update({ where: { teamId_userId: { teamId, userId } }, data: { role } });
    });
    return (await this.members(teamId)).find((m) => m.userId === userId)!;
  }

  async removeMember(teamId: string, userId: string): Promise<void> {
    await this.db.$transaction(async (tx) => {
      const member = await tx.membership.findUnique({ where: { teamId_userId: { teamId, userId } } });
      if (!member) throw AppError.notFound('Member', 'userId');
      if (member.role === 'owner') await assertAnotherOwner(tx, teamId, userId);
      await tx.membership.delete({ where: { teamId_userId: { teamId, userId } } });
      // The user's tokens restricted to this team would otherwise outlive the membership's end.
      await tx.apiToken.updateMany({
        where: { userId, teamId, revokedAt: null },
        data: { revokedAt: new Date(this.now()) },
      });
    });
  }

  // --- invitations --------------------------------------------------------------------------

  async invite(teamId: string, body: CreateInvitationBody): Promise<CreatedInvitation> {
    const secret = newSecret();
    const id = newId();
    const expiresAt = new Date(this.now() + INVITATION_LIFETIME_MS);
    await this.db.invitation.create({
      data: { id, teamId, email: body.email, role: body.role, tokenHash: secretHash(secret), expiresAt },
    });
    const acceptToken = `${id}.${secret}`;
    return {
      id,
      email: body.email,
      role: body.role,
      expiresAt: expiresAt.toISOString(),
      acceptToken,
      acceptUrl: `${this.deps.dashboardUrl.replace(/\/$/, '')}/invitation#${acceptToken}`,
    };
  }

  /**
   * Spends an invitation: creates its user (or, for an email that already has an account, checks
   * that account's password), adds the membership and signs in. An invitation works once.
   */
  async acceptInvitation(
    body: AcceptInvitationBody,
    client: { ip: string; userAgent?: string | undefined; previousCookie?: string | undefined },
  ): Promise<SignedIn & { teamId: string; email: string; role: TeamRole }> {
    const [id, secret] = body.token.split('.');
    const invalid = new AppError(400, 'invalid_invitation', 'That invitation is not valid or has expired', {
      field: 'token',
    });
    if (!id || !secret) throw invalid;
    const invitation = await this.db.invitation.findUnique({ where: { id } });
    if (
      !invitation ||
      invitation.acceptedAt ||
      invitation.expiresAt.getTime() <= this.now() ||
      invitation.tokenHash !== secretHash(secret)
    )
      throw invalid;
    const existing = await this.db.user.findUnique({ where: { email: invitation.email } });
    if (
      existing &&
      !(existing.passwordHash && (await verifyPassword(body.password, existing.passwordHash)))
    ) {
      throw new AppError(401, 'unauthorized', 'This email already has an account: use its password', {
        field: 'password',
      });
    }
    const passwordHash = existing ? null : await hashPassword(body.password);
    const userId = await this.db.$transaction(async (tx) => {
      // Spent first, conditionally: two concurrent accepts cannot both succeed.
      const spent = await tx.invitation.updateMany({
        where: { id, acceptedAt: null },
        data: { acceptedAt: new Date(this.now()) },
      });
      if (spent.count !== 1) throw invalid;
      const uid = existing?.id ?? newId();
      if (!existing) {
        await tx.user.create({
          data: { id: uid, email: invitation.email, name: body.name, passwordHash },
        });
      }
      await tx.membership.upsert({
        where: { teamId_userId: { teamId: invitation.teamId, userId: uid } },
        create: { teamId: invitation.teamId, userId: uid, role: invitation.role },
        update: { role: invitation.role },
      });
      return uid;
    });
    const session = await this.startSession(userId, client);
    return { ...session, teamId: invitation.teamId, email: invitation.email, role: invitation.role };
  }

  // --- API tokens ---------------------------------------------------------------------------

  async tokens(userId: string): Promise<TokenView[]> {
    const rows = await this.db.apiToken.findMany({
      where: { userId, revokedAt: null },
      orderBy: { createdAt: 'desc' },
    });
    return Promise.all(rows.map((t) => this.tokenView(t)));
  }

  /**
   * A token for the signed-in user. Its restriction must be something the user can see, and it
   * can never exceed the user: it is capped by the user's roles at every request anyway.
   */
  async createToken(
    p: Principal,
    body: CreateTokenBody,
    resolve: { teamId?: string | undefined; projectId?: string | undefined },
  ): Promise<CreatedToken> {
    if (!p.userId || p.kind !== 'user') throw AppError.forbidden('Sign in as a user to create API tokens');
    const id = newId();
    const token = `${API_TOKEN_PREFIX}${id}_${newSecret()}`;
    const row = await this.db.apiToken.create({
      data: {
        id,
        userId: p.userId,
        name: body.name,
        tokenHash: secretHash(token),
        scopes: [...new Set(body.scopes)],
        teamId: resolve.teamId ?? null,
        projectId: resolve.projectId ?? null,
        expiresAt: body.expiresInDays ? new Date(this.now() + body.expiresInDays * 86_400_000) : null,
      },
    });
    return { ...(await this.tokenView(row)), token };
  }

  async revokeToken(userId: string, tokenId: string): Promise<void> {
    const revoked = await this.db.apiToken.updateMany({
      where: { id: tokenId, userId, revokedAt: null },
      data: { revokedAt: new Date(this.now()) },
    });
    if (revoked.count === 0) throw AppError.notFound('Token', 'tokenId');
  }

  private async tokenView(t: {
    id: string;
    name: string;
    scopes: string[];
    teamId: string | null;
    projectId: string | null;
    expiresAt: Date | null;
    lastUsedAt: Date | null;
    createdAt: Date;
  }): Promise<TokenView> {
    const team = t.teamId ? await this.db.team.findUnique({ where: { id: t.teamId } }) : null;
    const project = t.projectId ? await this.db.project.findUnique({ where: { id: t.projectId } }) : null;
    return {
      id: t.id,
      name: t.name,
      scopes: t.scopes as TokenScope[],
      team: team?.slug ?? null,
      project: project?.slug ?? null,
      expiresAt: t.expiresAt?.toISOString() ?? null,
      lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
      createdAt: t.createdAt.toISOString(),
    };
  }

  /** The team a new project goes to when the request names none. */
  defaultTeamFor(p: Principal): string {
    if (p.teamId) return p.teamId;
    if (p.roles.has(DEFAULT_TEAM_ID)) return DEFAULT_TEAM_ID;
    const writable = [...p.roles].find(([, role]) => role !== 'viewer');
    return writable?.[0] ?? [...p.roles.keys()][0] ?? DEFAULT_TEAM_ID;
  }
}

function tooManySignIns(waitSeconds: number): AppError {
  return new AppError(429, 'rate_limited', `Too many sign-in attempts; retry in ${waitSeconds} s`);
}

async function assertAnotherOwner(tx: Prisma.TransactionClient, teamId: string, userId: string) {
  // The admin token owns the default team whoever else does.
  if (teamId === DEFAULT_TEAM_ID) return;
  const owners = await tx.membership.count({ where: { teamId, role: 'owner', userId: { not: userId } } });
  if (owners === 0) throw AppError.conflict('A team needs at least one owner', 'role');
}

import { z } from 'zod';
import { requiredOr } from './errors.js';
import { SlugSchema } from './ids.js';

/** A team member's role: owners manage members and delete; members deploy and change settings; viewers read. */
export const TeamRoleSchema = z.enum(['owner', 'member', 'viewer'], {
  error: requiredOr('expected one of owner, member, viewer'),
});
export type TeamRole = z.infer<typeof TeamRoleSchema>;

/** What an API token may do: read ⊂ deploy ⊂ admin, further capped by its owner's role. */
export const TokenScopeSchema = z.enum(['read', 'deploy', 'admin'], {
  error: requiredOr('expected one of read, deploy, admin'),
});
export type TokenScope = z.infer<typeof TokenScopeSchema>;

/** Team slugs follow project slugs' rules, so they are safe in URLs and never ambiguous. */
export const TeamSlugSchema = SlugSchema;

export const EmailSchema = z
  .string({ error: requiredOr('expected a string') })
  .trim()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email({ error: 'expected an email address' }))
  .transform((s) => s.toLowerCase());

/** Long enough to resist guessing with the sign-in backoff; capped so hashing stays bounded. */
export const PasswordSchema = z
  .string({ error: requiredOr('expected a string') })
  .min(12, 'must be at least 12 characters')
  .max(256, 'must be at most 256 characters');

const NameSchema = z
  .string({ error: requiredOr('expected a string') })
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters');

/** `POST /api/v1/session/password`: sign in with email and password. */
export const PasswordSignInBodySchema = z.strictObject({
  email: EmailSchema,
  // Not PasswordSchema: a sign-in never says how a password would have to look.
  password: z
    .string({ error: requiredOr('expected a string') })
    .min(1, 'must not be empty')
    .max(256, 'must be at most 256 characters'),
});
export type PasswordSignInBody = z.infer<typeof PasswordSignInBodySchema>;

export const TeamViewSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  /** The caller's role in it. */
  role: TeamRoleSchema,
  /** Owners' limit on the team's projects; null: none. Absent from control planes before limits. */
  maxProjects: z.number().int().nullable().optional(),
  /** How many projects the team has (for the limit). */
  projects: z.number().int().nonnegative().optional(),
});
export type TeamView = z.infer<typeof TeamViewSchema>;

export const CreateTeamBodySchema = z.strictObject({ slug: TeamSlugSchema, name: NameSchema });
export type CreateTeamBody = z.infer<typeof CreateTeamBodySchema>;

export const TeamParamsSchema = z.object({ team: TeamSlugSchema });

/** `PATCH /api/v1/teams/:team`, owners only: the name and the limits. */
export const UpdateTeamBodySchema = z.strictObject({
  name: NameSchema.optional(),
  /** At most this many projects; null: no limit. Lowering it below the current count only stops new ones. */
  maxProjects: z
    .number({ error: requiredOr('expected a whole number or null') })
    .int('must be a whole number')
    .min(0, 'must be at least 0')
    .max(100_000, 'must be at most 100000')
    .nullable()
    .optional(),
});
export type UpdateTeamBody = z.infer<typeof UpdateTeamBodySchema>;

/** `GET /api/v1/me`: who the request acts as. */
export const MeViewSchema = z.object({
  /** root: the bootstrap admin token (owner of the default team); user: a signed-in user; token: an API token. */
  kind: z.enum(['root', 'user', 'token']),
  user: z.object({ id: z.string(), email: z.string(), name: z.string() }).nullable(),
  teams: z.array(TeamViewSchema),
  /** The token's scopes; every scope for sessions and the admin token. */
  scopes: z.array(TokenScopeSchema),
});
export type MeView = z.infer<typeof MeViewSchema>;

export const MemberViewSchema = z.object({
  userId: z.string(),
  email: z.string(),
  name: z.string(),
  role: TeamRoleSchema,
  joinedAt: z.iso.datetime(),
});
export type MemberView = z.infer<typeof MemberViewSchema>;

export const MemberParamsSchema = z.object({
  team: TeamSlugSchema,
  userId: z.string().regex(/^[a-z0-9]{24}$/, 'expected a user id'),
});
export const UpdateMemberBodySchema = z.strictObject({ role: TeamRoleSchema });

export const CreateInvitationBodySchema = z.strictObject({
  email: EmailSchema,
  role: TeamRoleSchema.default('member'),
});
export type CreateInvitationBody = z.infer<typeof CreateInvitationBodySchema>;

/** The invitation as created: `acceptToken` is shown once, here, and stored only hashed. */
export const CreatedInvitationSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: TeamRoleSchema,
  expiresAt: z.iso.datetime(),
  acceptToken: z.string(),
  /** The dashboard's page that accepts it, with the token in the fragment (never sent to a server log). */
  acceptUrl: z.string(),
});
export type CreatedInvitation = z.infer<typeof CreatedInvitationSchema>;

/** `POST /api/v1/invitations/accept`: creates the invited user (or adds an existing one) and signs in. */
export const AcceptInvitationBodySchema = z.strictObject({
  token: z
    .string({ error: requiredOr('expected a string') })
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters'),
  name: NameSchema,
  password: PasswordSchema,
});
export type AcceptInvitationBody = z.infer<typeof AcceptInvitationBodySchema>;

export const TokenViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(TokenScopeSchema),
  team: z.string().nullable(),
  project: z.string().nullable(),
  expiresAt: z.iso.datetime().nullable(),
  lastUsedAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
});
export type TokenView = z.infer<typeof TokenViewSchema>;

export const CreateTokenBodySchema = z.strictObject({
  name: NameSchema,
  scopes: z
    .array(TokenScopeSchema, { error: requiredOr('expected an array of scopes') })
    .min(1, 'must name at least one scope')
    .max(3, 'must name at most three scopes'),
  /** Restricts the token to one team (by slug). */
  team: TeamSlugSchema.optional(),
  /** Restricts the token to one project (by slug). */
  project: SlugSchema.optional(),
  /** Days until it expires; absent: it never expires. */
  expiresInDays: z
    .number({ error: requiredOr('expected a number') })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(366, 'must be at most 366')
    .optional(),
});
export type CreateTokenBody = z.infer<typeof CreateTokenBodySchema>;

/** The token as created: `token` is shown once, here. */
export const CreatedTokenSchema = TokenViewSchema.extend({ token: z.string() });
export type CreatedToken = z.infer<typeof CreatedTokenSchema>;

export const TokenParamsSchema = z.object({
  tokenId: z.string().regex(/^[a-z0-9]{24}$/, 'expected a token id'),
});

/** `GET /api/v1/sessions`: the caller's signed-in browsers, to end any of them. */
export const UserSessionViewSchema = z.object({
  id: z.string(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  /** The session this request came with. */
  current: z.boolean(),
});
export type UserSessionView = z.infer<typeof UserSessionViewSchema>;

export const SessionParamsSchema = z.object({
  sessionId: z.string().regex(/^[a-z0-9]{24}$/, 'expected a session id'),
});

/** API tokens look like `dsp_<id>_<secret>`: the prefix lets secret scanners recognise them. */
export const API_TOKEN_PREFIX = 'dsp_';

/**
 * One OpenID Connect provider the platform offers for sign-in (OIDC_PROVIDERS, a JSON array):
 * Google, GitHub through an OIDC bridge, Okta, Keycloak, … `id` appears in the callback URL,
 * `<control plane>/api/v1/auth/oidc/<id>/callback`, which is what the provider must allow.
 */
export const OidcProviderSettingsSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]{1,32}$/, 'must be 1-32 lowercase letters, digits or hyphens'),
  name: z.string().min(1).max(60),
  issuer: z.url({ protocol: /^https?$/, error: 'expected an http(s) issuer URL' }),
  clientId: z.string().min(1),
  /** Absent: a public client (PKCE only). */
  clientSecret: z.string().min(1).optional(),
});
export type OidcProviderSettings = z.infer<typeof OidcProviderSettingsSchema>;

/** `GET /api/v1/auth/providers`: the sign-in buttons. */
export const AuthProvidersViewSchema = z.array(
  z.object({ id: z.string(), name: z.string(), startUrl: z.string() }),
);
export type AuthProvidersView = z.infer<typeof AuthProvidersViewSchema>;

export const OidcStartQuerySchema = z.object({
  /** Where the dashboard continues after sign-in: a path on the dashboard itself. */
  return: z
    .string()
    .max(500)
    .regex(/^\/(?![/\\])/, 'must be a path on the dashboard')
    .default('/'),
});

/** `POST /api/v1/password-reset`: always 202, whether the email has an account or not. */
export const PasswordResetRequestBodySchema = z.strictObject({ email: EmailSchema });

/** `POST /api/v1/password-reset/confirm`: the link's token and the new password; signs in. */
export const PasswordResetConfirmBodySchema = z.strictObject({
  token: z
    .string({ error: requiredOr('expected a string') })
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters'),
  password: PasswordSchema,
});
export type PasswordResetConfirmBody = z.infer<typeof PasswordResetConfirmBodySchema>;

import {
  type AcceptInvitationBody,
  type AddDomainBody,
  type AuditAction,
  AuditPageSchema,
  AuthProvidersViewSchema,
  CLI_DEPLOY_PATHS,
  CliDeployCreatedSchema,
  type CreateCliDeployBody,
  CreatedInvitationSchema,
  CreatedTokenSchema,
  type CreateInvitationBody,
  type CreateTeamBody,
  type CreateTokenBody,
  MemberViewSchema,
  MeViewSchema,
  type PasswordResetConfirmBody,
  type PasswordSignInBody,
  type TeamRole,
  TeamViewSchema,
  TokenViewSchema,
  DEPLOYMENT_LOGS_MAX_LIMIT,
  DeploymentLogsResponseSchema,
  DeploymentViewSchema,
  ProjectViewSchema,
  RegionSchema,
  SessionViewSchema,
  SitesViewSchema,
  TrafficViewSchema,
  ProjectStorageViewSchema,
  type CreateDeploymentBody,
  type CreateWebhookBody,
  type DeploymentTarget,
  type GitProvider,
  WebhookDeliveryViewSchema,
  WebhookSecretViewSchema,
  WebhookViewSchema,
  type PromoteBody,
  type QuickDeployBody,
  type SessionBody,
  type TrafficWindow,
  type UpdateProjectBody,
} from '@deploysphere/contracts';
import { z } from 'zod';
import { request } from './client.js';

const enc = encodeURIComponent;

/** Every call the dashboard makes, typed by the contracts' schemas. */
export const api = {
  session: (signal?: AbortSignal) =>
    request('GET', '/session', SessionViewSchema, { signal, ignoreUnauthorized: true }),
  signIn: (body: SessionBody) =>
    request('POST', '/session', SessionViewSchema, { body, ignoreUnauthorized: true }),
  signOut: () => request('DELETE', '/session', undefined, { ignoreUnauthorized: true }),
  /** A wrong password answers 401, which is not "signed out". */
  signInWithPassword: (body: PasswordSignInBody) =>
    request('POST', '/session/password', SessionViewSchema, { body, ignoreUnauthorized: true }),
  acceptInvitation: (body: AcceptInvitationBody) =>
    request('POST', '/invitations/accept', SessionViewSchema, { body, ignoreUnauthorized: true }),
  /** Always 202, whether the email has an account or not: the answer tells nothing. */
  requestPasswordReset: (email: string) =>
    request('POST', '/password-reset', undefined, { body: { email }, ignoreUnauthorized: true }),
  /** Spends the link's token, sets the password and signs in. */
  confirmPasswordReset: (body: PasswordResetConfirmBody) =>
    request('POST', '/password-reset/confirm', SessionViewSchema, { body, ignoreUnauthorized: true }),

  /** Public: the single sign-on providers for the sign-in page's buttons. */
  authProviders: (signal?: AbortSignal) =>
    request('GET', '/auth/providers', AuthProvidersViewSchema, { signal, ignoreUnauthorized: true }),
  me: (signal?: AbortSignal) => request('GET', '/me', MeViewSchema, { signal }),
  createTeam: (body: CreateTeamBody) => request('POST', '/teams', TeamViewSchema, { body }),
  members: (team: string, signal?: AbortSignal) =>
    request('GET', `/teams/${enc(team)}/members`, z.array(MemberViewSchema), { signal }),
  setMemberRole: (team: string, userId: string, role: TeamRole) =>
    request('PATCH', `/teams/${enc(team)}/members/${enc(userId)}`, MemberViewSchema, { body: { role } }),
  removeMember: (team: string, userId: string) =>
    request('DELETE', `/teams/${enc(team)}/members/${enc(userId)}`, undefined),
  /** The answer is the only time the invitation's link shows. */
  invite: (team: string, body: CreateInvitationBody) =>
    request('POST', `/teams/${enc(team)}/invitations`, CreatedInvitationSchema, { body }),
  tokens: (signal?: AbortSignal) => request('GET', '/tokens', z.array(TokenViewSchema), { signal }),
  /** The answer is the only time the token's secret shows. */
  createToken: (body: CreateTokenBody) => request('POST', '/tokens', CreatedTokenSchema, { body }),
  revokeToken: (id: string) => request('DELETE', `/tokens/${enc(id)}`, undefined),
  /** One page of a team's audit log, newest first; `before` is the previous page's `nextBefore`. */
  audit: (
    team: string,
    opts: {
      limit: number;
      before?: string | undefined;
      action?: AuditAction | undefined;
      actor?: string | undefined;
    },
    signal?: AbortSignal,
  ) => {
    const query = new URLSearchParams({ limit: String(opts.limit) });
    if (opts.before) query.set('before', opts.before);
    if (opts.action) query.set('action', opts.action);
    if (opts.actor) query.set('actor', opts.actor);
    return request('GET', `/teams/${enc(team)}/audit?${query}`, AuditPageSchema, { signal });
  },

  regions: (signal?: AbortSignal) => request('GET', '/regions', z.array(RegionSchema), { signal }),
  sites: (signal?: AbortSignal) => request('GET', '/sites', SitesViewSchema, { signal }),

  projects: (signal?: AbortSignal) => request('GET', '/projects', z.array(ProjectViewSchema), { signal }),
  /** The project with this slug, or undefined when the slug is free. */
  findProject: (slug: string, signal?: AbortSignal) =>
    request('GET', `/projects?slug=${enc(slug)}`, z.array(ProjectViewSchema), { signal }).then(
      (list) => list[0],
    ),
  project: (slug: string, signal?: AbortSignal) =>
    request('GET', `/projects/${enc(slug)}`, ProjectViewSchema, { signal }),
  updateProject: (slug: string, body: UpdateProjectBody) =>
    request('PATCH', `/projects/${enc(slug)}`, ProjectViewSchema, { body }),
  addDomain: (slug: string, body: AddDomainBody) =>
    request('POST', `/projects/${enc(slug)}/domains`, ProjectViewSchema, { body }),
  removeDomain: (slug: string, hostname: string) =>
    request('DELETE', `/projects/${enc(slug)}/domains/${enc(hostname)}`, undefined),
  deleteProject: (slug: string) => request('DELETE', `/projects/${enc(slug)}`, undefined),

  deployments: (
    slug: string,
    opts: {
      limit: number;
      before?: string | undefined;
      target?: DeploymentTarget | undefined;
      branch?: string | undefined;
    },
    signal?: AbortSignal,
  ) => {
    const query = new URLSearchParams({ limit: String(opts.limit) });
    if (opts.before) query.set('before', opts.before);
    if (opts.target) query.set('target', opts.target);
    if (opts.branch) query.set('branch', opts.branch);
    return request('GET', `/projects/${enc(slug)}/deployments?${query}`, z.array(DeploymentViewSchema), {
      signal,
    });
  },
  redeploy: (slug: string, body: CreateDeploymentBody = {}) =>
    request('POST', `/projects/${enc(slug)}/deployments`, DeploymentViewSchema, { body }),
  promote: (slug: string, body: PromoteBody) =>
    request('POST', `/projects/${enc(slug)}/promote`, DeploymentViewSchema, { body }),

  webhooks: (slug: string, signal?: AbortSignal) =>
    request('GET', `/projects/${enc(slug)}/webhooks`, z.array(WebhookViewSchema), { signal }),
  /** Connects the provider's hook, or rotates its secret; the answer is the only time the secret shows. */
  connectWebhook: (slug: string, body: CreateWebhookBody) =>
    request('POST', `/projects/${enc(slug)}/webhook`, WebhookSecretViewSchema, { body }),
  disconnectWebhook: (slug: string, provider: GitProvider) =>
    request('DELETE', `/projects/${enc(slug)}/webhooks/${enc(provider)}`, undefined),
  deliveries: (slug: string, signal?: AbortSignal) =>
    request('GET', `/projects/${enc(slug)}/deliveries?limit=30`, z.array(WebhookDeliveryViewSchema), {
      signal,
    }),

  traffic: (slug: string, window: TrafficWindow, signal?: AbortSignal) =>
    request('GET', `/projects/${enc(slug)}/traffic?window=${window}`, TrafficViewSchema, { signal }),
  storage: (slug: string, signal?: AbortSignal) =>
    request('GET', `/projects/${enc(slug)}/storage`, ProjectStorageViewSchema, { signal }),

  quickDeploy: (body: QuickDeployBody) => request('POST', '/deployments', DeploymentViewSchema, { body }),
  deployment: (id: string, signal?: AbortSignal) =>
    request('GET', `/deployments/${enc(id)}`, DeploymentViewSchema, { signal }),
  cancel: (id: string) => request('POST', `/deployments/${enc(id)}/cancel`, DeploymentViewSchema),
  /** The folder drop: the CLI's prebuilt deploy (docs/cli.md), with the session cookie. */
  createCliDeploy: (body: CreateCliDeployBody) =>
    request('POST', CLI_DEPLOY_PATHS.create, CliDeployCreatedSchema, { body }),
  finalizeCliDeploy: (id: string) =>
    request('POST', CLI_DEPLOY_PATHS.finalize(enc(id)), DeploymentViewSchema, { body: {} }),
  cliDeployHeartbeat: (id: string) =>
    request('POST', CLI_DEPLOY_PATHS.heartbeat(enc(id)), undefined, { body: {} }),
  logs: (id: string, after: number, signal?: AbortSignal) =>
    request(
      'GET',
      `/deployments/${enc(id)}/logs?after=${after}&limit=${DEPLOYMENT_LOGS_MAX_LIMIT}`,
      DeploymentLogsResponseSchema,
      {
        signal,
      },
    ),
};

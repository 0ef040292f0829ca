import { z } from 'zod';
import { requiredOr } from './errors.js';
import { DeploymentIdSchema, SlugSchema } from './ids.js';

/**
 * Git-driven deploys: the webhook API's bodies and views, the generic push form, the delivery log
 * and the branch aliases of previews. The control plane and the dashboard both import these.
 */

/** production: becomes the project's production when ready; preview: never touches production. */
export const DeploymentTargetSchema = z.enum(['production', 'preview']);
export type DeploymentTarget = z.infer<typeof DeploymentTargetSchema>;

export const GitProviderSchema = z.enum(['github', 'gitlab', 'gitea', 'generic'], {
  error: requiredOr('expected one of github, gitlab, gitea, generic'),
});
export type GitProvider = z.infer<typeof GitProviderSchema>;

/** `POST /projects/:slug/webhook`: creates the provider's hook, or rotates its secret. */
export const CreateWebhookBodySchema = z.strictObject({ provider: GitProviderSchema });
export type CreateWebhookBody = z.infer<typeof CreateWebhookBodySchema>;

/** The answer that carries the secret: shown this once, never readable again. */
export const WebhookSecretViewSchema = z.object({
  provider: GitProviderSchema,
  /** The address to paste into the provider's webhook settings. */
  url: z.string(),
  secret: z.string(),
});
export type WebhookSecretView = z.infer<typeof WebhookSecretViewSchema>;

/** A connected hook, without its secret. */
export const WebhookViewSchema = z.object({
  provider: GitProviderSchema,
  url: z.string(),
  createdAt: z.iso.datetime(),
  /** When the secret was last set: created or rotated. */
  rotatedAt: z.iso.datetime(),
  /** The provider REST API that commit statuses and PR comments go to, when a token is set. */
  apiUrl: z.string().nullable().optional(),
  /** Whether an API token is set, so deployments are reported back to the provider. */
  reportsStatus: z.boolean().optional(),
});
export type WebhookView = z.infer<typeof WebhookViewSchema>;

export const WebhookParamsSchema = z.object({
  slug: SlugSchema,
  provider: GitProviderSchema,
});

/**
 * received: being handled now; deployed: it queued a deployment; skipped: it recorded a `skipped`
 * deployment (watch paths, a skip marker), why in `reason`; ignored: why not, in `reason`.
 */
export const DeliveryOutcomeSchema = z.enum(['received', 'deployed', 'skipped', 'ignored']);
export type DeliveryOutcome = z.infer<typeof DeliveryOutcomeSchema>;

/** One authenticated delivery, as the provider's own delivery log would show it. */
export const WebhookDeliveryViewSchema = z.object({
  id: z.string(),
  provider: GitProviderSchema,
  /** The provider's delivery id (X-GitHub-Delivery, X-Gitlab-Event-UUID, X-Gitea-Delivery, …). */
  deliveryId: z.string(),
  event: z.string(),
  outcome: DeliveryOutcomeSchema,
  reason: z.string().nullable(),
  deploymentId: DeploymentIdSchema.nullable(),
  branch: z.string().nullable(),
  commitSha: z.string().nullable(),
  receivedAt: z.iso.datetime(),
});
export type WebhookDeliveryView = z.infer<typeof WebhookDeliveryViewSchema>;

export const DeliveryListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(30),
});

/** What a hook URL answers a provider (its delivery log shows it). */
export const HookResponseSchema = z.object({
  /**
   * duplicate: this delivery id was handled before; nothing new happened. skipped: a `skipped`
   * deployment (`deploymentId`) records the push, and nothing is built.
   */
  outcome: z.enum(['deployed', 'skipped', 'ignored', 'duplicate']),
  deliveryId: z.string(),
  deploymentId: DeploymentIdSchema.optional(),
  reason: z.string().optional(),
});
export type HookResponse = z.infer<typeof HookResponseSchema>;

/** Headers of the generic form: any CI or script can send it. */
export const GENERIC_HEADERS = {
  /** `sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>` */
  signature: 'x-deploysphere-signature',
  /** A unique id per delivery (1–200 printable characters); a repeat is refused as a replay. */
  delivery: 'x-deploysphere-delivery',
  /** Optional; absent means `push`, anything else is recorded and ignored. */
  event: 'x-deploysphere-event',
} as const;

const HEX_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** The generic form's body: one pushed commit of one branch. */
export const GenericPushPayloadSchema = z.object({
  /** The repository's clone URL; it must be the project's. */
  repository: z
    .string({ error: requiredOr('expected the clone URL') })
    .min(1)
    .max(2048),
  /** The pushed branch, without refs/heads/. */
  branch: z
    .string({ error: requiredOr('expected a branch name') })
    .min(1)
    .max(255),
  /** The pushed commit, in full. */
  commit: z
    .string({ error: requiredOr('expected a full commit SHA') })
    .regex(HEX_SHA, 'expected a full commit SHA'),
  /** The remote's default branch: needed when the project's production branch is unset. */
  defaultBranch: z.string().min(1).max(255).optional(),
  message: z.string().max(65_536).optional(),
  author: z.string().max(512).optional(),
});
export type GenericPushPayload = z.infer<typeof GenericPushPayloadSchema>;

/** What separates a project's slug from its branch in a branch alias. */
export const BRANCH_ALIAS_INFIX = '-git-';
/** A DNS label's longest length. */
export const DNS_LABEL_MAX = 63;
const HASH_LENGTH = 6;

/** A branch name as a DNS label fragment: lowercase, runs of anything but a-z0-9 become one '-'. */
export function branchSlug(branch: string): string {
  return branch
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * A short stable hash of the branch name (FNV-1a over its UTF-8 bytes): pure JavaScript, since
 * the dashboard computes aliases too and browsers have no synchronous sha256.
 */
export function branchHash(branch: string): string {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(branch)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0').slice(0, HASH_LENGTH);
}

/**
 * The first DNS label of a branch's alias host: `<slug>-git-<branch-slug>`. When that is longer
 * than 63 characters, or `hashed` is asked for (another branch already holds the plain label),
 * the branch slug is cut to fit and `-<hash of the branch name>` is appended. It never contains
 * `--`, which only deployment hosts have.
 */
export function branchAliasLabel(
  projectSlug: string,
  branch: string,
  opts: { hashed?: boolean } = {},
): string {
  const prefix = `${projectSlug}${BRANCH_ALIAS_INFIX}`;
  const slug = branchSlug(branch);
  const plain = `${prefix}${slug}`;
  if (!opts.hashed && slug !== '' && plain.length <= DNS_LABEL_MAX) return plain;
  const room = DNS_LABEL_MAX - prefix.length - HASH_LENGTH - 1;
  const cut = slug.slice(0, Math.max(0, room)).replace(/-+$/, '');
  return `${prefix}${cut === '' ? '' : `${cut}-`}${branchHash(branch)}`;
}

export function branchAliasHost(
  projectSlug: string,
  branch: string,
  rootDomain: string,
  opts: { hashed?: boolean } = {},
): string {
  return `${branchAliasLabel(projectSlug, branch, opts)}.${rootDomain}`;
}

/** The providers with a REST API that commit statuses and pull request comments go to. */
export const GitApiProviderSchema = z.enum(['github', 'gitlab', 'gitea'], {
  error: requiredOr('expected one of github, gitlab, gitea'),
});
export type GitApiProvider = z.infer<typeof GitApiProviderSchema>;

export const GitTokenParamsSchema = z.object({ slug: SlugSchema, provider: GitApiProviderSchema });

/**
 * `PUT /projects/:slug/webhooks/:provider/token`: the token the platform reports commit statuses
 * and PR comments with. Stored encrypted, never shown again. `apiUrl` is the REST API's base
 * (`https://gitlab.example/api/v4`, `https://gitea.example/api/v1`); GitHub's and GitLab.com's
 * public APIs are the defaults.
 */
export const SetGitTokenBodySchema = z.strictObject({
  token: z
    .string({ error: requiredOr('expected the API token') })
    .min(1)
    .max(1024)
    .regex(/^[\x21-\x7e]+$/, 'expected printable characters without spaces'),
  apiUrl: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
    .max(2048)
    .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), 'must not carry credentials')
    .optional(),
});
export type SetGitTokenBody = z.infer<typeof SetGitTokenBodySchema>;

/** Markers in a head commit's message that skip its deployment, as most CI systems honour. */
export const SKIP_MARKERS = ['[skip ci]', '[ci skip]', '[skip deploy]', '[deploy skip]'] as const;

/** The marker that skips a commit's deployment, if its message has one (any case). */
export function skipMarkerOf(message: string | null | undefined): string | undefined {
  const lower = message?.toLowerCase() ?? '';
  return SKIP_MARKERS.find((m) => lower.includes(m));
}

/**
 * `PUT /projects/:slug/git-credential`: an HTTPS token for a private repository. `username` is
 * what the provider expects with it (GitHub: any, e.g. `x-access-token`; GitLab: `oauth2` or the
 * token's name; Gitea: the account). Stored encrypted, never shown again.
 */
export const SetGitCredentialBodySchema = z.strictObject({
  token: z
    .string({ error: requiredOr('expected the access token') })
    .min(1)
    .max(1024)
    .regex(/^[\x21-\x7e]+$/, 'expected printable characters without spaces'),
  username: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[\x21-\x7e]+$/, 'expected printable characters without spaces')
    .optional(),
});
export type SetGitCredentialBody = z.infer<typeof SetGitCredentialBodySchema>;

const KnownHostsSchema = z
  .string({ error: requiredOr('expected known_hosts lines') })
  .min(1)
  .max(65_536)
  .refine(
    (v) =>
      v
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
        .every((l) => /^\S+ (ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/=]+$/.test(l)),
    'expected known_hosts lines: "<host> <key type> <base64 key>"',
  );

/**
 * `POST /projects/:slug/deploy-key`: generates an ed25519 deploy key (replacing any credential)
 * and answers its public key. `knownHosts` pins the SSH server's keys; absent, the platform
 * scans the repository's host once, now, and pins what it answered.
 */
export const CreateDeployKeyBodySchema = z.strictObject({ knownHosts: KnownHostsSchema.optional() });
export type CreateDeployKeyBody = z.infer<typeof CreateDeployKeyBodySchema>;

/** `PUT /projects/:slug/deploy-key/known-hosts`: re-pins the server's keys (after a real change). */
export const SetKnownHostsBodySchema = z.strictObject({
  knownHosts: KnownHostsSchema,
});

/** A project's clone credential, without its secret. */
export const GitCredentialViewSchema = z.object({
  kind: z.enum(['token', 'ssh']),
  username: z.string().nullable(),
  /** The deploy key's public key (`ssh-ed25519 AAAA… deploysphere-<slug>`), to add to the provider. */
  publicKey: z.string().nullable(),
  knownHosts: z.string().nullable(),
  updatedAt: z.iso.datetime(),
});
export type GitCredentialView = z.infer<typeof GitCredentialViewSchema>;

/** `POST /projects/:slug/deploy-hooks`: a secret URL that deploys one branch when POSTed to. */
export const CreateDeployHookBodySchema = z.strictObject({
  name: z
    .string({ error: requiredOr('expected a name for the hook') })
    .trim()
    .min(1)
    .max(100),
  branch: z
    .string({ error: requiredOr('expected the branch to deploy') })
    .min(1)
    .max(255)
    .regex(/^[^\s~^:?*[\\]+$/, 'expected a branch name')
    .refine(
      (b) => !b.startsWith('-') && !b.startsWith('refs/'),
      'expected a branch name, without refs/heads/',
    ),
});
export type CreateDeployHookBody = z.infer<typeof CreateDeployHookBodySchema>;

/** A deploy hook, without its secret URL. */
export const DeployHookViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  branch: z.string(),
  createdAt: z.iso.datetime(),
  lastTriggeredAt: z.iso.datetime().nullable(),
});
export type DeployHookView = z.infer<typeof DeployHookViewSchema>;

/** The answer that carries the secret URL: shown this once. */
export const DeployHookSecretViewSchema = DeployHookViewSchema.extend({ url: z.string() });
export type DeployHookSecretView = z.infer<typeof DeployHookSecretViewSchema>;

export const DeployHookParamsSchema = z.object({ slug: SlugSchema, hookId: z.string().max(64) });

/** What `POST /hooks/deploy/:secret` answers. */
export const DeployHookResponseSchema = z.object({
  outcome: z.literal('deployed'),
  deploymentId: DeploymentIdSchema,
  target: DeploymentTargetSchema,
});
export type DeployHookResponse = z.infer<typeof DeployHookResponseSchema>;

/** One watch path: a glob relative to the repository's root (`apps/web`, `packages/*\/src/**`, `!**\/*.md`). */
const WatchPathSchema = z
  .string()
  .min(1)
  .max(256)
  .refine((p) => !/(^|\/)\.\.(\/|$)/.test(p), 'must not contain ".."')
  .refine((p) => !/[\0\n\r]/.test(p), 'must not contain control characters');

/**
 * `PUT /projects/:slug/watch-paths`: a push whose changed files match none of these is skipped
 * (recorded, nothing built). Empty: every push builds.
 */
export const WatchPathsSchema = z.strictObject({
  paths: z.array(WatchPathSchema, { error: requiredOr('expected a list of path globs') }).max(50),
});
export type WatchPaths = z.infer<typeof WatchPathsSchema>;

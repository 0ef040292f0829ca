import { z } from 'zod';
import { queryInt } from './logs.js';

/** What an audit entry records; the names are stable, for filters and for anyone parsing them. */
export const AUDIT_ACTIONS = [
  'project.create',
  'project.update',
  'project.delete',
  'domain.add',
  'domain.remove',
  'env.update',
  'deployment.create',
  'deployment.promote',
  'deployment.cancel',
  'webhook.create',
  'webhook.delete',
  'webhook.token_set',
  'webhook.token_remove',
  'git_credential.set',
  'git_credential.remove',
  'deploy_key.create',
  'deploy_key.known_hosts_set',
  'deploy_hook.create',
  'deploy_hook.delete',
  'watch_paths.update',
  'protection.update',
  'team.create',
  'team.update',
  'member.invite',
  'member.join',
  'member.role_change',
  'member.remove',
  'token.create',
  'token.revoke',
  'session.revoke',
] as const;
export const AuditActionSchema = z.enum(AUDIT_ACTIONS, { error: 'expected a known audit action' });
export type AuditAction = z.infer<typeof AuditActionSchema>;

export const AuditEntrySchema = z.object({
  id: z.string(),
  at: z.iso.datetime(),
  action: AuditActionSchema,
  actor: z.object({
    /** root: the admin token; user: a signed-in user; token: a user's API token. */
    kind: z.enum(['root', 'user', 'token']),
    /** The user's id, or null for the admin token. */
    userId: z.string().nullable(),
    /** The user's email, or "admin token". */
    label: z.string(),
    tokenId: z.string().nullable(),
  }),
  /** What it was done to: a project slug, a deployment id, a member's user id, a token's name… */
  target: z.string(),
  /** The client's address as the control plane saw it (behind a proxy, as `trustProxy` reports it). */
  ip: z.string(),
  /** Names only, never values: changed setting names, env keys, a role. */
  details: z.record(z.string(), z.unknown()),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** `<at ISO>~<id>`: entries of the same millisecond still page in a stable order. */
export const AUDIT_CURSOR = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z~[a-z0-9]{24}$/;

export const AuditQuerySchema = z.object({
  /** The previous page's `nextBefore`: entries strictly older than its last one. */
  before: z.string().regex(AUDIT_CURSOR, "expected a previous page's nextBefore").optional(),
  action: AuditActionSchema.optional(),
  /** A user's id: only what they did. */
  actor: z
    .string()
    .regex(/^[a-z0-9]{24}$/, 'expected a user id')
    .optional(),
  limit: queryInt(1, 200).default(50),
});
export type AuditQuery = z.infer<typeof AuditQuerySchema>;

export const AuditPageSchema = z.object({
  entries: z.array(AuditEntrySchema),
  /** Pass as `before` for the next page; null on the last. */
  nextBefore: z.string().nullable(),
});
export type AuditPage = z.infer<typeof AuditPageSchema>;

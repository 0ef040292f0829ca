import { z } from 'zod';
import { requiredOr } from './errors.js';

/** Names a project's production host, so it must be a DNS label that can never collide with ours. */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set([
  'www',
  'api',
  'admin',
  'app',
  'dashboard',
  'edge',
  'static',
  'assets',
  'cdn',
  'mail',
  'status',
  'docs',
  'help',
  'support',
  'login',
  'auth',
  'metrics',
  'internal',
  'localhost',
  'deploysphere',
]);

export const SlugSchema = z
  .string({ error: requiredOr('expected a string') })
  .min(3, 'must be at least 3 characters')
  .max(40, 'must be at most 40 characters')
  .regex(/^[a-z0-9-]+$/, 'may contain only lowercase letters, digits and hyphens')
  .refine((s) => !s.startsWith('-') && !s.endsWith('-'), 'must not start or end with a hyphen')
  .refine((s) => !s.includes('--'), 'must not contain "--" (it separates deployment hosts)')
  .refine((s) => !RESERVED_SLUGS.has(s), 'is reserved');

/** Deployment ids are 24 lowercase base-36 characters, so a prefix of them is a safe DNS label. */
export const DeploymentIdSchema = z
  .string({ error: requiredOr('expected a deployment id') })
  .regex(/^[a-z0-9]{24}$/, 'expected a deployment id');
export type DeploymentId = z.infer<typeof DeploymentIdSchema>;

export const SHORT_ID_LENGTH = 9;

export function shortId(deploymentId: string): string {
  return deploymentId.slice(0, SHORT_ID_LENGTH);
}

export function productionHost(slug: string, rootDomain: string): string {
  return `${slug}.${rootDomain}`;
}

/** What every permanent host of a project starts with: `--` cannot occur in a slug. */
export function deploymentHostPrefix(slug: string): string {
  return `${slug}--`;
}

/** The permanent host of one deployment; the prefix makes it parse back to one project uniquely. */
export function deploymentHost(slug: string, deploymentId: string, rootDomain: string): string {
  return `${deploymentHostPrefix(slug)}${shortId(deploymentId)}.${rootDomain}`;
}

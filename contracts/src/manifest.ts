import { z } from 'zod';
import { DeploymentIdSchema } from './ids.js';

export const BlobHashSchema = z.string().regex(/^[a-f0-9]{64}$/, 'expected a sha256 hex digest');

/**
 * A site path as stored in a manifest: relative, POSIX separators, no dot segments. The edge
 * looks paths up verbatim, so anything outside this shape can never match a file.
 */
export const SitePathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (p) =>
      !p.startsWith('/') &&
      !p.includes('\\') &&
      !p.includes('\0') &&
      p.split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
    'expected a relative path without dot segments',
  );

export const ManifestFileSchema = z.object({
  hash: BlobHashSchema,
  size: z.number().int().nonnegative(),
  contentType: z.string().min(1).max(255),
});
export type ManifestFile = z.infer<typeof ManifestFileSchema>;

export const RedirectStatusSchema = z.union([
  z.literal(200),
  z.literal(301),
  z.literal(302),
  z.literal(307),
  z.literal(308),
]);

/** One `_redirects` line, parsed at build time so the edge only matches. */
export const RedirectRuleSchema = z.object({
  from: z.string().min(1).max(2048),
  to: z.string().min(1).max(2048),
  status: RedirectStatusSchema,
  force: z.boolean().default(false),
});
export type RedirectRule = z.infer<typeof RedirectRuleSchema>;

/** One `_headers` block: a path pattern and the headers to set on matching responses. */
export const HeaderRuleSchema = z.object({
  pattern: z.string().min(1).max(2048),
  headers: z.record(z.string().min(1).max(256), z.string().max(4096)),
});
export type HeaderRule = z.infer<typeof HeaderRuleSchema>;

export const ManifestSchema = z.object({
  v: z.literal(1),
  deploymentId: DeploymentIdSchema,
  createdAt: z.iso.datetime(),
  files: z.record(SitePathSchema, ManifestFileSchema),
  redirects: z.array(RedirectRuleSchema).default([]),
  headers: z.array(HeaderRuleSchema).default([]),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export function blobKey(hash: string): string {
  return `blobs/${hash}`;
}

export function manifestKey(deploymentId: string): string {
  return `deployments/${deploymentId}/manifest.json`;
}

/**
 * The largest file a site may have: Cloudflare Pages' own limit. The build refuses a larger one,
 * and the edge, which verifies each file's hash before serving it, reads no more than this.
 */
export const MAX_SITE_FILE_BYTES = 25 * 1024 * 1024;

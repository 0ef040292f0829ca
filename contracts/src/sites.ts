import { z } from 'zod';

/** Stands for a project's slug in `SitesView.urlPattern`. */
export const SITE_SLUG_PLACEHOLDER = '<slug>';

/**
 * `GET /api/v1/sites`: where sites are served, so a client can show a project's URL before the
 * project exists (the dashboard's slug hint). `urlPattern` is a production URL with
 * `SITE_SLUG_PLACEHOLDER` for the slug, e.g. `http://<slug>.localhost:8787`.
 */
export const SitesViewSchema = z.object({
  rootDomain: z.string().min(1),
  urlPattern: z.string().includes(SITE_SLUG_PLACEHOLDER),
});
export type SitesView = z.infer<typeof SitesViewSchema>;

/** The production URL `pattern` gives for `slug`. */
export function siteUrlFor(pattern: string, slug: string): string {
  return pattern.replace(SITE_SLUG_PLACEHOLDER, slug);
}

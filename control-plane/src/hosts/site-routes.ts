import { SITE_SLUG_PLACEHOLDER, type SitesView } from '@deploysphere/contracts';
import type { FastifyInstance } from 'fastify';
import type { SiteUrls } from './site-urls.js';

/**
 * `GET /sites`: the root domain and the production URL pattern, built by the same `SiteUrls` that
 * makes every project's `url`, so the pattern cannot drift from the real URLs.
 */
export async function siteRoutes(app: FastifyInstance, opts: { urls: SiteUrls; rootDomain: string }) {
  const view: SitesView = {
    rootDomain: opts.rootDomain,
    urlPattern: opts.urls.production(SITE_SLUG_PLACEHOLDER),
  };
  app.get('/sites', async () => view);
}

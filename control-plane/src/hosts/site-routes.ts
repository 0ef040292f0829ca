import { SITE_SLUG_PLACEHOLDER, SitesViewSchema, type SitesView } from '@deploysphere/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ERROR_RESPONSES } from '../plugins/openapi.js';

/**
 * `GET /sites`: the root domain and the production URL pattern, built by the same `SiteUrls` that
 * makes every project's `url`, so the pattern cannot drift from the real URLs.
 */
export const siteRoutes: FastifyPluginAsyncZod<{ rootDomain: string }> = async (app, opts) => {
  const view: SitesView = {
    rootDomain: opts.rootDomain,
    urlPattern: app.siteUrls.production(SITE_SLUG_PLACEHOLDER),
  };
  app.get(
    '/sites',
    {
      schema: {
        summary: 'Where sites are served: the root domain and a production URL with `<slug>` for the slug',
        tags: ['platform'],
        response: { 200: SitesViewSchema, ...ERROR_RESPONSES },
      },
    },
    async () => view,
  );
};

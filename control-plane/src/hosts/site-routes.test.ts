import { SitesViewSchema, siteUrlFor } from '@deploysphere/contracts';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { routeServices } from '../plugins/services.js';
import { zodSchemas } from '../plugins/zod-schemas.js';
import { SiteUrls } from './site-urls.js';
import { siteRoutes } from './site-routes.js';

async function sitesFor(rootDomain: string, sites: { protocol: 'http' | 'https'; port?: number }) {
  const app = Fastify();
  await app.register(zodSchemas);
  await app.register(routeServices, { siteUrls: new SiteUrls({ rootDomain, sites }) });
  await app.register(siteRoutes, { rootDomain });
  const res = await app.inject({ url: '/sites' });
  await app.close();
  expect(res.statusCode).toBe(200);
  return SitesViewSchema.parse(res.json());
}

describe('GET /sites', () => {
  it('gives the local URL pattern, with the edge port', async () => {
    const view = await sitesFor('localhost', { protocol: 'http', port: 8787 });
    expect(view).toEqual({ rootDomain: 'localhost', urlPattern: 'http://<slug>.localhost:8787' });
    expect(siteUrlFor(view.urlPattern, 'web')).toBe('http://web.localhost:8787');
  });

  it('leaves out the default port of the protocol', async () => {
    const view = await sitesFor('sites.example.com', { protocol: 'https', port: 443 });
    expect(view.urlPattern).toBe('https://<slug>.sites.example.com');
  });

  it('agrees with the URL a project gets', async () => {
    const urls = new SiteUrls({ rootDomain: 'apps.test', sites: { protocol: 'https', port: 8443 } });
    const view = await sitesFor('apps.test', { protocol: 'https', port: 8443 });
    expect(siteUrlFor(view.urlPattern, 'shop')).toBe(urls.production('shop'));
  });
});

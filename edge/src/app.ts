import { AppError, EDGE_NO_REGION, EDGE_UNKNOWN_HOST, errorBody } from '@deploysphere/contracts';
import { Hono } from 'hono';
import { handleError } from './http/error-handler.js';
import { waitUntilOf, type EdgeEnv } from './http/edge-env.js';
import { unknownHostPage } from './http/platform-pages.js';
import { guardProtectedHost, privateResponse } from './protection/protected-host.js';
import { requestHostname } from './routing/hostname.js';
import { CACHE_NONE } from './site/cache-control.js';
import { serveSite } from './site/serve-site.js';
import { servicesResolver, type AppOptions } from './services.js';

const ALLOWED_METHODS = 'GET, HEAD';

/** The edge worker as a Hono app: one catch-all handler, since the Host header is the router. */
export function createApp(options: AppOptions = {}): Hono<EdgeEnv> {
  const resolveServices = servicesResolver(options);
  const now = options.now ?? Date.now;
  const app = new Hono<EdgeEnv>();

  // Outermost: sees every response, including errors mapped by onError.
  app.use('*', async (c, next) => {
    const started = now();
    c.set('metricsHost', EDGE_UNKNOWN_HOST);
    c.set('bodyBytes', 0);
    await next();
    c.res.headers.set('x-content-type-options', 'nosniff');
    const metrics = c.var.services?.metrics;
    if (!metrics) return;
    const cacheHeader = c.res.headers.get('x-deploysphere-cache');
    metrics.record({
      host: c.var.metricsHost,
      status: c.res.status,
      region: c.res.headers.get('x-deploysphere-region') ?? EDGE_NO_REGION,
      cache: cacheHeader === 'hit' || cacheHeader === 'miss' ? cacheHeader : 'none',
      bytes: c.var.bodyBytes,
      latencyMs: now() - started,
    });
    const flush = metrics.flushIfDue();
    if (flush) waitUntilOf(c).waitUntil(flush);
  });

  app.use('*', async (c, next) => {
    // Hono dispatches HEAD to GET handlers and drops the body itself.
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const body = errorBody(new AppError(405, 'method_not_allowed', 'Only GET and HEAD are allowed'));
      return c.json(body, 405, { allow: ALLOWED_METHODS, 'cache-control': CACHE_NONE });
    }
    c.set('services', resolveServices(c.env));
    await next();
  });

  app.get('*', async (c) => {
    const { config, routes } = c.var.services;
    const url = new URL(c.req.url);
    const hostname = requestHostname(url);
    if (hostname === config.ROOT_DOMAIN) {
      c.set('metricsHost', hostname);
      if (url.pathname === '/healthz') {
        return c.json({ status: 'ok', service: 'edge', regions: [...c.var.services.regions.keys()] }, 200, {
          'cache-control': CACHE_NONE,
        });
      }
      return unknownHostPage();
    }
    const route = hostname ? await routes.lookup(hostname) : null;
    if (!route || !hostname) return unknownHostPage();
    c.set('metricsHost', hostname);
    // The only cost an unprotected host pays: this property test on the record already read.
    if (!route.protection) return serveSite(c, route);
    const gate = await guardProtectedHost({
      url,
      hostname,
      cookieHeader: c.req.header('cookie') ?? null,
      protection: route.protection,
      keys: c.var.services.protection,
      now: now(),
    });
    return gate ?? privateResponse(await serveSite(c, route));
  });

  app.onError(handleError);
  return app;
}

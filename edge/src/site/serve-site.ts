import { AppError, type EdgeRegion, type RouteRecord } from '@deploysphere/contracts';
import { sitePageNotFound } from '../http/platform-pages.js';
import { waitUntilOf, type EdgeContext } from '../http/edge-env.js';
import { visitorLocation, type CfGeo } from '../regions/geo.js';
import { orderRegions } from '../regions/region-order.js';
import type { Site } from '../cache/manifest-store.js';
import { CACHE_HTML } from './cache-control.js';
import { fileResponse } from './file-response.js';
import { matchRedirect, type RedirectOutcome } from './redirect-rules.js';
import { parseRequestPath, type RequestPath } from './request-path.js';
import { isSpaNavigation, lookup, nearestNotFoundPage, resolveStatic } from './static-resolver.js';

interface SiteRequest {
  site: Site;
  path: RequestPath;
  search: string;
  manifestRegion: string;
  regions: EdgeRegion[];
}

/**
 * Serves a request for a routed host. Order, as on Netlify: forced `_redirects` rules, then static
 * files (with clean URLs), then the remaining rules, then the nearest 404.html or the SPA's
 * index.html.
 */
export async function serveSite(c: EdgeContext, route: RouteRecord): Promise<Response> {
  const services = c.var.services;
  const url = new URL(c.req.url);
  const path = parseRequestPath(url.pathname);
  const cf = (c.req.raw as Request & { cf?: CfGeo }).cf;
  const visitor = visitorLocation(c.req.raw.headers, cf, services.config.DEV_MODE);
  const regions = orderRegions(route.regions, services.regions, visitor);
  if (regions.length === 0) {
    throw AppError.unavailable('The site is temporarily unavailable', {
      reason: 'no configured region holds the deployment',
      deploymentId: route.deploymentId,
      regions: route.regions,
    });
  }
  const lookupResult = await services.manifests.get(route.deploymentId, regions, waitUntilOf(c));
  if (!lookupResult.ok) {
    throw AppError.unavailable('The site is temporarily unavailable', {
      deploymentId: route.deploymentId,
      failures: lookupResult.failures,
    });
  }
  const req: SiteRequest = {
    site: lookupResult.site,
    path,
    search: url.search,
    manifestRegion: lookupResult.region,
    regions,
  };

  const forced = matchRedirect(req.site.redirects, path.segments, req.search, true);
  if (forced) return applyRule(c, req, forced);

  const resolution = resolveStatic(req.site.files, path.segments, path.trailingSlash, req.search);
  if (resolution.kind === 'file') return serveFile(c, req, resolution.path, 200);
  if (resolution.kind === 'redirect') return redirect(308, resolution.location, req.manifestRegion);

  const rule = matchRedirect(req.site.redirects, path.segments, req.search, false);
  if (rule) return applyRule(c, req, rule);

  return notFound(c, req);
}

async function applyRule(c: EdgeContext, req: SiteRequest, outcome: RedirectOutcome): Promise<Response> {
  if (outcome.kind === 'redirect') return redirect(outcome.status, outcome.location, req.manifestRegion);
  // A rewrite target goes through the same path checks as a URL, so a rule cannot reach outside
  // the deployment either; it is resolved once (no rule chains, so no loops).
  let target: RequestPath;
  try {
    target = parseRequestPath(outcome.path);
  } catch {
    return notFound(c, req);
  }
  const found = lookup(req.site.files, target.segments);
  return found ? serveFile(c, req, found.path, 200) : notFound(c, req);
}

async function notFound(c: EdgeContext, req: SiteRequest): Promise<Response> {
  const page = nearestNotFoundPage(req.site.files, req.path.segments);
  if (page) return serveFile(c, req, page.path, 404);
  if (req.site.spa && isSpaNavigation(req.path.segments, c.req.header('accept') ?? null)) {
    return serveFile(c, req, 'index.html', 200);
  }
  const response = sitePageNotFound();
  response.headers.set('x-deploysphere-region', req.manifestRegion);
  return response;
}

function serveFile(c: EdgeContext, req: SiteRequest, path: string, status: 200 | 404): Promise<Response> {
  const file = req.site.files.get(path);
  if (!file) throw AppError.internal(`resolved a path the manifest does not hold: ${path}`);
  return fileResponse(c, {
    site: req.site,
    path,
    file,
    status,
    requestSegments: req.path.segments,
    manifestRegion: req.manifestRegion,
    regions: req.regions,
  });
}

function redirect(status: number, location: string, region: string): Response {
  return new Response(null, {
    status,
    headers: { location, 'cache-control': CACHE_HTML, 'x-deploysphere-region': region },
  });
}

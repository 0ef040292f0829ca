import {
  PROTECTION_AUTH_PATH,
  PROTECTION_COOKIE,
  PROTECTION_COOKIE_TTL_S,
  safeReturnPath,
  signProtectionToken,
  verifyProtectionToken,
  type RouteProtection,
} from '@deploysphere/contracts';
import { platformPage } from '../http/platform-pages.js';
import { CACHE_NONE } from '../site/cache-control.js';
import type { ProtectionKeys } from './protection-keys.js';

export interface ProtectedRequest {
  url: URL;
  /** The request's hostname, lowercase and without a port: what grants and cookies are bound to. */
  hostname: string;
  cookieHeader: string | null;
  protection: RouteProtection;
  keys: ProtectionKeys | undefined;
  /** Milliseconds since the epoch. */
  now: number;
}

/**
 * The gate in front of a protected host (docs/protected-previews.md). It answers a Response when
 * the visitor may not see the site yet — the grant exchange, a redirect to sign in, or a refusal —
 * and undefined when the visitor's cookie is valid for this host, this epoch and this moment.
 * Nothing here calls the control plane: the cookie's HMAC is the whole check.
 */
export async function guardProtectedHost(req: ProtectedRequest): Promise<Response | undefined> {
  const { url, hostname, protection, keys } = req;
  // Fail closed: a protected record on an edge without the key is never served publicly.
  if (!keys) {
    return platformPage(
      503,
      'Unavailable',
      'This site is protected, but sign-in is not configured on this edge.',
    );
  }
  const key = await keys.key();
  const nowS = Math.floor(req.now / 1000);
  const check = { host: hostname, epoch: protection.epoch, now: nowS };

  if (url.pathname === PROTECTION_AUTH_PATH) {
    const grant = await verifyProtectionToken(key, 'grant', url.searchParams.get('token') ?? '', check);
    if (!grant.ok) {
      return platformPage(
        403,
        'Sign-in link expired',
        'This sign-in link has expired or is not for this site. Open the site again to sign in.',
        { 'referrer-policy': 'no-referrer', 'x-deploysphere-protection': `refused-grant-${grant.reason}` },
      );
    }
    const cookie = await signProtectionToken(key, {
      k: 'cookie',
      h: hostname,
      e: nowS + PROTECTION_COOKIE_TTL_S,
      // The grant's epoch, which may be newer than a stale cached record's.
      p: grant.payload.p,
    });
    const secure = url.protocol === 'https:' ? '; Secure' : '';
    return new Response(null, {
      status: 303,
      headers: {
        location: safeReturnPath(grant.payload.r) ?? '/',
        // No Domain attribute: the cookie stays on this exact host, never its siblings.
        'set-cookie': `${PROTECTION_COOKIE}=${cookie}; Path=/; Max-Age=${PROTECTION_COOKIE_TTL_S}; HttpOnly; SameSite=Lax${secure}`,
        'cache-control': CACHE_NONE,
        // The grant is in this URL: it must not travel on as a Referer.
        'referrer-policy': 'no-referrer',
      },
    });
  }

  const token = readCookie(req.cookieHeader, PROTECTION_COOKIE);
  if (token !== undefined) {
    const verdict = await verifyProtectionToken(key, 'cookie', token, check);
    if (verdict.ok) return undefined;
    return signInRedirect(req, keys.authUrl, `refused-cookie-${verdict.reason}`);
  }
  return signInRedirect(req, keys.authUrl, 'sign-in');
}

function signInRedirect(req: ProtectedRequest, authUrl: string, outcome: string): Response {
  const target = new URL('/protection/authorize', authUrl);
  target.searchParams.set('host', req.hostname);
  target.searchParams.set('return', safeReturnPath(`${req.url.pathname}${req.url.search}`) ?? '/');
  return new Response(null, {
    status: 302,
    headers: {
      location: target.toString(),
      'cache-control': CACHE_NONE,
      'x-deploysphere-protection': outcome,
    },
  });
}

/** The value of cookie `name`, or undefined; a malformed header counts as no cookie. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * A protected host's response must not be stored by shared caches (a CDN in front would hand it
 * to anyone): `public` and `s-maxage` become `private`, keeping the browser's own max-age.
 */
export function privateResponse(response: Response): Response {
  const current = response.headers.get('cache-control');
  const directives = (current ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '' && !/^(public|private|s-maxage=.*)$/i.test(d));
  const value = ['private', ...directives].join(', ');
  try {
    response.headers.set('cache-control', value);
    return response;
  } catch {
    // Immutable headers (a Response from fetch or the Cache API): copy it.
    const copy = new Response(response.body, response);
    copy.headers.set('cache-control', value);
    return copy;
  }
}

import { useQuery } from '@tanstack/react-query';
import { useLocation } from '@tanstack/react-router';
import { authProvidersQuery } from '../api/queries.js';

/**
 * "Sign in with <provider>" for each configured OpenID Connect provider: plain links to the
 * control plane's start URL, which redirects to the provider (PKCE, state and nonce are the
 * control plane's) and back to `return`, the path this page was opened at. None configured, or
 * the list unavailable: nothing shows, and the password form is the way in.
 */
export function SsoButtons() {
  const providers = useQuery(authProvidersQuery());
  const here = useLocation({ select: (l) => l.href });
  // Only a path on the control plane or an http(s) URL becomes a link (never `javascript:`).
  const safe = providers.data?.filter((p) => /^(\/(?![/\\])|https?:\/\/)/.test(p.startUrl)) ?? [];
  if (safe.length === 0) return null;
  // The start route accepts only a path on the dashboard; anything else would be refused there.
  const returnTo = here.startsWith('/') && !here.startsWith('//') ? here : '/';
  return (
    <>
      <ul className="sso-buttons" aria-label="Single sign-on">
        {safe.map((p) => (
          <li key={p.id}>
            <a className="button" href={`${p.startUrl}?return=${encodeURIComponent(returnTo)}`}>
              Sign in with {p.name}
            </a>
          </li>
        ))}
      </ul>
      <p className="sso-or muted">or</p>
    </>
  );
}

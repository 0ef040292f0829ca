import { useEffect, useState } from 'react';

function fragment(): string {
  try {
    return decodeURIComponent(window.location.hash.replace(/^#/, ''));
  } catch {
    return '';
  }
}

/**
 * A one-time link's secret from the URL fragment (`/invitation#<token>`, `/reset-password#<token>`).
 * Browsers never send a fragment to a server, so the secret stays out of access logs and
 * `Referer`; it is then removed from the address bar at once, so it is not left in the tab's
 * history or a screenshot (a reload needs the link again).
 */
export function useFragmentSecret(): string {
  const [secret] = useState(fragment);
  useEffect(() => {
    if (window.location.hash)
      history.replaceState(history.state, '', window.location.pathname + window.location.search);
  }, []);
  return secret;
}

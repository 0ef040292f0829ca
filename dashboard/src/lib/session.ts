import type { SessionView } from '@deploysphere/contracts';
import type { QueryClient } from '@tanstack/react-query';
import { queryKeys } from '../api/query-keys.js';

export const SIGNED_OUT: SessionView = { signedIn: false, expiresAt: null };

/** The invitation link's page (the control plane builds the link as `<dashboard>/invitation#<token>`). */
export const INVITATION_PATH = '/invitation';

/** The password reset link's page (`<dashboard>/reset-password#<token>`, as the control plane sends it). */
export const RESET_PASSWORD_PATH = '/reset-password';

/** Pages shown signed in or not: their link's fragment is the credential, and using it replaces any session. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set([INVITATION_PATH, RESET_PASSWORD_PATH]);

/** Shown on the sign-in page after an API call answered 401. */
export const SESSION_ENDED_NOTICE = 'Your session has ended. Sign in again.';

/**
 * Whoever signs in next sees nothing of the previous session: every cached answer but the
 * session itself is dropped, then the session is written, which shows the app.
 */
export function enterSession(client: QueryClient, session: SessionView): void {
  const keep = new Set<unknown>([queryKeys.session[0], queryKeys.authProviders[0]]);
  client.removeQueries({ predicate: (q) => !keep.has(q.queryKey[0]) });
  client.setQueryData(queryKeys.session, session);
}

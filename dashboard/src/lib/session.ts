import type { SessionView } from '@deploysphere/contracts';

export const SIGNED_OUT: SessionView = { signedIn: false, expiresAt: null };

/** Shown on the sign-in page after an API call answered 401. */
export const SESSION_ENDED_NOTICE = 'Your session has ended. Sign in again.';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Outlet, useLocation, useRouter } from '@tanstack/react-router';
import { useEffect, useRef, useState } from 'react';
import { onUnauthorized } from '../api/client.js';
import { sessionQuery } from '../api/queries.js';
import { queryKeys } from '../api/query-keys.js';
import { AppHeader } from '../components/app-header.js';
import { LoadingState } from '../components/loading-state.js';
import { PUBLIC_PATHS, SESSION_ENDED_NOTICE, SIGNED_OUT } from '../lib/session.js';
import { SignInPage } from '../pages/sign-in-page.js';

/**
 * Every path starts here: the sign-in page while signed out (whatever the path, so a deep link
 * still lands where it pointed after signing in), the app otherwise.
 */
export function RootLayout() {
  const client = useQueryClient();
  const session = useQuery(sessionQuery());
  const [notice, setNotice] = useState<string | undefined>();
  const pathname = useLocation({ select: (l) => l.pathname });

  useEffect(
    () =>
      onUnauthorized(() => {
        setNotice(SESSION_ENDED_NOTICE);
        client.setQueryData(queryKeys.session, SIGNED_OUT);
      }),
    [client],
  );

  // Accepting an invitation or resetting a password needs no session, and replaces the one there is.
  if (PUBLIC_PATHS.has(pathname)) {
    return (
      <main id="main" className="sign-in">
        <Outlet />
      </main>
    );
  }
  if (session.isPending) {
    return (
      <main id="main" className="sign-in">
        <LoadingState label="Loading…" />
      </main>
    );
  }
  if (!session.data?.signedIn) {
    return <SignInPage notice={notice ?? session.error?.message} onSignedIn={() => setNotice(undefined)} />;
  }
  return <AppShell />;
}

function AppShell() {
  const router = useRouter();
  const main = useRef<HTMLElement>(null);

  // After an in-app navigation, move focus to the new page's heading, as a full page load would
  // (the router itself scrolls to the top). `onRendered` fires once the new page is in the DOM;
  // a search change (the traffic window) keeps the path and the focus.
  useEffect(
    () =>
      router.subscribe('onRendered', ({ fromLocation, pathChanged }) => {
        if (fromLocation && pathChanged)
          main.current?.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
      }),
    [router],
  );

  return (
    <>
      <AppHeader />
      <main id="main" ref={main} className="content" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}

import { useEffect, useRef, useState } from 'react';
import { onUnauthorized } from './api/client.js';
import { api } from './api/endpoints.js';
import { AppHeader } from './components/app-header.js';
import { LoadingState } from './components/loading-state.js';
import { DeploymentPage } from './pages/deployment-page.js';
import { NewDeploymentPage } from './pages/new-deployment-page.js';
import { NotFoundPage } from './pages/not-found-page.js';
import { ProjectPage } from './pages/project-page.js';
import { ProjectsPage } from './pages/projects-page.js';
import { SignInPage } from './pages/sign-in-page.js';
import { matchRoute, navigate, usePathname } from './router/router.js';

type Session = { state: 'checking' } | { state: 'signed-out'; notice?: string } | { state: 'signed-in' };

function Route({ pathname }: { pathname: string }) {
  if (pathname === '/' || pathname === '/projects') return <ProjectsPage />;
  if (pathname === '/new') return <NewDeploymentPage />;
  let params = matchRoute('/deployments/:id', pathname);
  if (params) return <DeploymentPage key={params.id} id={params.id!} />;
  params = matchRoute('/projects/:slug', pathname);
  if (params) return <ProjectPage key={params.slug} slug={params.slug!} tab="deployments" />;
  params = matchRoute('/projects/:slug/settings', pathname);
  if (params) return <ProjectPage key={params.slug} slug={params.slug!} tab="settings" />;
  params = matchRoute('/projects/:slug/traffic', pathname);
  if (params) return <ProjectPage key={params.slug} slug={params.slug!} tab="traffic" />;
  return <NotFoundPage />;
}

export function App() {
  const [session, setSession] = useState<Session>({ state: 'checking' });
  const pathname = usePathname();
  const main = useRef<HTMLElement>(null);
  const firstPath = useRef(pathname);

  useEffect(() => {
    onUnauthorized(() =>
      setSession({ state: 'signed-out', notice: 'Your session has ended. Sign in again.' }),
    );
    api.session().then(
      (s) => setSession(s.signedIn ? { state: 'signed-in' } : { state: 'signed-out' }),
      (err: Error) => setSession({ state: 'signed-out', notice: err.message }),
    );
  }, []);

  // After an in-app navigation, move focus to the new page's heading, as a full page load would.
  useEffect(() => {
    if (pathname === firstPath.current) return;
    firstPath.current = '';
    main.current?.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
    document.documentElement.scrollTop = 0;
  }, [pathname]);

  if (session.state === 'checking') {
    return (
      <main id="main" className="sign-in">
        <LoadingState label="Loading…" />
      </main>
    );
  }
  if (session.state === 'signed-out') {
    return <SignInPage notice={session.notice} onSignedIn={() => setSession({ state: 'signed-in' })} />;
  }

  const signOut = async () => {
    try {
      await api.signOut();
    } finally {
      setSession({ state: 'signed-out' });
      navigate('/', { replace: true });
    }
  };

  return (
    <>
      <AppHeader pathname={pathname} onSignOut={() => void signOut()} />
      <main id="main" ref={main} className="content" tabIndex={-1}>
        <Route pathname={pathname} />
      </main>
    </>
  );
}

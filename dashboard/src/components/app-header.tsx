import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation, useRouter } from '@tanstack/react-router';
import { api } from '../api/endpoints.js';
import { queryKeys } from '../api/query-keys.js';
import { SIGNED_OUT } from '../lib/session.js';

/** The top bar: brand, the two places everyone goes, and sign out. */
export function AppHeader() {
  const pathname = useLocation({ select: (l) => l.pathname });
  const client = useQueryClient();
  const router = useRouter();
  const signOut = useMutation({
    mutationFn: api.signOut,
    // Signed out either way: a failed DELETE leaves at most a cookie the server still accepts.
    onSettled: () => {
      client.setQueryData(queryKeys.session, SIGNED_OUT);
      // Nothing of this session should show to whoever signs in next.
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== queryKeys.session[0] });
      void router.navigate({ to: '/', replace: true });
    },
  });
  const onProjects = pathname === '/' || pathname.startsWith('/projects');
  return (
    <header className="app-header">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Link to="/" className="brand">
        <span className="logo" aria-hidden="true">
          ◆
        </span>{' '}
        DeploySphere
      </Link>
      <nav aria-label="Main">
        {/* Current on a project's pages too, which the router only marks on "/" itself. */}
        <Link to="/" aria-current={onProjects ? 'page' : undefined}>
          Projects
        </Link>
        <Link to="/new" className="button primary" aria-label="New deployment">
          New<span className="wide-only"> deployment</span>
        </Link>
        <button type="button" className="quiet" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
          Sign out
        </button>
      </nav>
    </header>
  );
}

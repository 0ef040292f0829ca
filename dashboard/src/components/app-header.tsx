import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation, useRouter } from '@tanstack/react-router';
import { api } from '../api/endpoints.js';
import { meQuery } from '../api/queries.js';
import { queryKeys } from '../api/query-keys.js';
import { useSelectedTeam } from '../lib/selected-team.js';
import { SIGNED_OUT } from '../lib/session.js';
import { usePermissions } from '../lib/use-permissions.js';
import { TeamSwitcher } from './team-switcher.js';

/** The top bar: brand, the team switcher, the places everyone goes, and sign out. */
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
  const me = useQuery(meQuery());
  const { team } = useSelectedTeam();
  const can = usePermissions();
  const onProjects = pathname === '/' || pathname.startsWith('/projects');
  const who = me.data?.user?.name ?? (me.data?.kind === 'root' ? 'Admin token' : undefined);
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
        {team && (
          <Link to="/teams/$team" params={{ team: team.slug }}>
            Team
          </Link>
        )}
        {/* Kept on narrow screens, where the other links and the switcher give way: the account
            page links every team. */}
        <Link to="/account" className="keep-narrow" title={who ? `Signed in as ${who}` : undefined}>
          Account
        </Link>
        <TeamSwitcher />
        {/* Viewers cannot deploy: the API would refuse, so the button is not offered. */}
        {can.deploy && (
          <Link to="/new" className="button primary" aria-label="New deployment">
            New<span className="wide-only"> deployment</span>
          </Link>
        )}
        <button type="button" className="quiet" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
          Sign out
        </button>
      </nav>
    </header>
  );
}

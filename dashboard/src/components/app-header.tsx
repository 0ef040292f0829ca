import { Link } from '../router/link.js';

/** The top bar: brand, the two places everyone goes, and sign out. */
export function AppHeader({ pathname, onSignOut }: { pathname: string; onSignOut: () => void }) {
  const current = (match: boolean) => (match ? 'page' : undefined);
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
        <Link to="/" aria-current={current(pathname === '/' || pathname.startsWith('/projects'))}>
          Projects
        </Link>
        <Link
          to="/new"
          className="button primary"
          aria-label="New deployment"
          aria-current={current(pathname === '/new')}
        >
          New<span className="wide-only"> deployment</span>
        </Link>
        <button type="button" className="quiet" onClick={onSignOut}>
          Sign out
        </button>
      </nav>
    </header>
  );
}

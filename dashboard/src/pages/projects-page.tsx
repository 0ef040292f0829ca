import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { projectListQuery, regionsQuery } from '../api/queries.js';
import { EmptyState } from '../components/empty-state.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { RegionBadges } from '../components/region-badges.js';
import { StatusBadge } from '../components/status-badge.js';
import { absoluteTime, displayUrl, timeAgo } from '../lib/format.js';
import { useDocumentTitle } from '../lib/use-document-title.js';
import { usePermissions } from '../lib/use-permissions.js';

export function ProjectsPage() {
  useDocumentTitle('Projects');
  const projects = useQuery(projectListQuery());
  const regions = useQuery(regionsQuery());
  const can = usePermissions();

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Projects</h1>
        {can.deploy && (
          <Link to="/drop" className="button">
            Deploy a folder
          </Link>
        )}
      </div>
      {projects.isPending && <LoadingState label="Loading projects…" />}
      {projects.isError && !projects.data && (
        <ErrorState error={projects.error} onRetry={() => void projects.refetch()} />
      )}
      {projects.data?.length === 0 && (
        <EmptyState title="No projects yet">
          {can.deploy ? (
            <>
              <p>Deploy a Git repository and it shows up here, with its production URL and status.</p>
              <Link to="/new" className="button primary">
                Deploy your first project
              </Link>
            </>
          ) : (
            <p>Your teams have no projects yet. As a viewer you can read them once members deploy.</p>
          )}
        </EmptyState>
      )}
      {projects.data && projects.data.length > 0 && (
        <ul className="project-list" aria-label="Projects">
          {projects.data.map((p) => (
            <li key={p.slug} className="card project-card">
              <div className="project-card-head">
                <h2>
                  <Link to="/projects/$slug" params={{ slug: p.slug }}>
                    {p.slug}
                  </Link>
                </h2>
                <StatusBadge status={p.latestDeployment?.status ?? null} />
              </div>
              <a className="url" href={p.url} target="_blank" rel="noreferrer">
                {displayUrl(p.url)}
              </a>
              <p className="muted repo" title={p.repoUrl}>
                {p.repoUrl}
              </p>
              <div className="project-card-foot">
                <RegionBadges ids={p.regions} regions={regions.data} />
                <span className="muted">
                  {p.latestDeployment ? (
                    <time
                      dateTime={p.latestDeployment.createdAt}
                      title={absoluteTime(p.latestDeployment.createdAt)}
                    >
                      Deployed {timeAgo(p.latestDeployment.createdAt)}
                    </time>
                  ) : (
                    'Never deployed'
                  )}
                </span>
              </div>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

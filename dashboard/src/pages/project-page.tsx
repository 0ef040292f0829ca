import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link, Outlet, useNavigate } from '@tanstack/react-router';
import { rememberDeployment } from '../api/cache.js';
import { api } from '../api/endpoints.js';
import { projectQuery, regionsQuery } from '../api/queries.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { RegionBadges } from '../components/region-badges.js';
import { errorMessage } from '../lib/error-message.js';
import { displayUrl } from '../lib/format.js';
import { useDocumentTitle } from '../lib/use-document-title.js';
import { usePermissions } from '../lib/use-permissions.js';

const route = getRouteApi('/projects/$slug');

/** The project's summary and tabs; the tab (history, traffic or settings) renders in the outlet. */
export function ProjectPage() {
  const { slug } = route.useParams();
  useDocumentTitle(slug);
  const client = useQueryClient();
  const navigate = useNavigate();
  const project = useQuery(projectQuery(slug));
  const can = usePermissions();
  const regions = useQuery(regionsQuery());
  const redeploy = useMutation({
    mutationFn: () => api.redeploy(slug),
    onSuccess: (d) => {
      rememberDeployment(client, d);
      void navigate({ to: '/deployments/$id', params: { id: d.id } });
    },
  });
  const starting = redeploy.isPending || redeploy.isSuccess;

  return (
    <>
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to="/">Projects</Link> /
      </nav>
      <div className="page-head">
        <h1 tabIndex={-1}>{slug}</h1>
        {project.data && can.deploy && (
          <div className="page-actions">
            <button type="button" className="primary" onClick={() => redeploy.mutate()} disabled={starting}>
              {starting ? 'Starting…' : 'Redeploy'}
            </button>
          </div>
        )}
      </div>
      {redeploy.isError && (
        <p className="form-error" role="alert">
          {errorMessage(redeploy.error, 'Could not start a deployment')}
        </p>
      )}
      {project.isPending && <LoadingState label="Loading project…" />}
      {project.isError && !project.data && (
        <ErrorState error={project.error} onRetry={() => void project.refetch()} />
      )}
      {project.data && (
        <>
          <section className="card project-summary" aria-label="Project">
            <dl className="facts">
              <div>
                <dt>Production URL</dt>
                <dd>
                  <a href={project.data.url} target="_blank" rel="noreferrer">
                    {displayUrl(project.data.url)}
                  </a>
                </dd>
              </div>
              <div>
                <dt>Repository</dt>
                <dd className="repo" title={project.data.repoUrl}>
                  {project.data.repoUrl}
                  {project.data.gitRef && <span className="muted"> · {project.data.gitRef}</span>}
                </dd>
              </div>
              <div>
                <dt>Regions</dt>
                <dd>
                  <RegionBadges ids={project.data.regions} regions={regions.data} />
                </dd>
              </div>
            </dl>
          </section>
          <nav className="tabs" aria-label="Project sections">
            <Link to="/projects/$slug" params={{ slug }} activeOptions={{ exact: true }}>
              Deployments
            </Link>
            <Link to="/projects/$slug/traffic" params={{ slug }} activeOptions={{ includeSearch: false }}>
              Traffic
            </Link>
            <Link to="/projects/$slug/storage" params={{ slug }}>
              Storage
            </Link>
            {/* Viewers read; every setting is a change the API would refuse them. */}
            {can.deploy && (
              <Link to="/projects/$slug/settings" params={{ slug }}>
                Settings
              </Link>
            )}
          </nav>
          <Outlet />
        </>
      )}
    </>
  );
}

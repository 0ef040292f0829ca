import { useState } from 'react';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { RegionBadges } from '../components/region-badges.js';
import { displayUrl } from '../lib/format.js';
import { useAsync } from '../lib/use-async.js';
import { useDocumentTitle } from '../lib/use-document-title.js';
import { Link } from '../router/link.js';
import { navigate } from '../router/router.js';
import { DeploymentHistory } from './deployment-history.js';
import { ProjectSettings } from './project-settings.js';
import { ProjectTraffic } from './project-traffic.js';

export function ProjectPage({ slug, tab }: { slug: string; tab: 'deployments' | 'traffic' | 'settings' }) {
  useDocumentTitle(slug);
  const [project, reload, setProject] = useAsync((signal) => api.project(slug, signal), [slug]);
  const [regions] = useAsync((signal) => api.regions(signal), []);
  const [redeploying, setRedeploying] = useState(false);
  const [actionError, setActionError] = useState<string | undefined>();

  const redeploy = async () => {
    setRedeploying(true);
    setActionError(undefined);
    try {
      const d = await api.redeploy(slug);
      navigate(`/deployments/${d.id}`);
    } catch (err) {
      setActionError(err instanceof ApiError ? err.message : 'Could not start a deployment');
      setRedeploying(false);
    }
  };

  return (
    <>
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to="/">Projects</Link> /
      </nav>
      <div className="page-head">
        <h1 tabIndex={-1}>{slug}</h1>
        {project.state === 'ok' && (
          <div className="page-actions">
            <button type="button" className="primary" onClick={redeploy} disabled={redeploying}>
              {redeploying ? 'Starting…' : 'Redeploy'}
            </button>
          </div>
        )}
      </div>
      {actionError && (
        <p className="form-error" role="alert">
          {actionError}
        </p>
      )}
      {project.state === 'loading' && <LoadingState label="Loading project…" />}
      {project.state === 'error' && <ErrorState error={project.error} onRetry={reload} />}
      {project.state === 'ok' && (
        <>
          <section className="card project-summary" aria-label="Project">
            <dl className="facts">
              <div>
                <dt>Production URL</dt>
                <dd>
                  <a href={project.value.url} target="_blank" rel="noreferrer">
                    {displayUrl(project.value.url)}
                  </a>
                </dd>
              </div>
              <div>
                <dt>Repository</dt>
                <dd className="repo" title={project.value.repoUrl}>
                  {project.value.repoUrl}
                  {project.value.gitRef && <span className="muted"> · {project.value.gitRef}</span>}
                </dd>
              </div>
              <div>
                <dt>Regions</dt>
                <dd>
                  <RegionBadges
                    ids={project.value.regions}
                    regions={regions.state === 'ok' ? regions.value : undefined}
                  />
                </dd>
              </div>
            </dl>
          </section>
          <nav className="tabs" aria-label="Project sections">
            <Link to={`/projects/${slug}`} aria-current={tab === 'deployments' ? 'page' : undefined}>
              Deployments
            </Link>
            <Link to={`/projects/${slug}/traffic`} aria-current={tab === 'traffic' ? 'page' : undefined}>
              Traffic
            </Link>
            <Link to={`/projects/${slug}/settings`} aria-current={tab === 'settings' ? 'page' : undefined}>
              Settings
            </Link>
          </nav>
          {tab === 'deployments' ? (
            <DeploymentHistory project={project.value} onChanged={reload} />
          ) : tab === 'traffic' ? (
            <ProjectTraffic slug={slug} />
          ) : (
            <ProjectSettings
              project={project.value}
              regions={regions}
              onSaved={setProject}
              onDeleted={() => navigate('/', { replace: true })}
            />
          )}
        </>
      )}
    </>
  );
}

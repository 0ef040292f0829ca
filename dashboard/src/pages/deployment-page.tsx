import { TERMINAL_STATUSES } from '@deploysphere/contracts';
import { useState } from 'react';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { LogViewer } from '../components/log-viewer.js';
import { PhaseStepper } from '../components/phase-stepper.js';
import { RegionBadges } from '../components/region-badges.js';
import { StatusBadge } from '../components/status-badge.js';
import { UploadProgress } from '../components/upload-progress.js';
import { absoluteTime, displayUrl, formatDuration, shortDeploymentId, shortSha } from '../lib/format.js';
import { useDeploymentLive, type LogFeed } from '../lib/use-deployment-live.js';
import { useDocumentTitle } from '../lib/use-document-title.js';
import { useNow } from '../lib/use-now.js';
import { Link } from '../router/link.js';

const FEED_NOTICE: Partial<Record<LogFeed, string>> = {
  connecting: 'connecting…',
  polling: 'live stream unavailable, polling',
  unavailable: 'logs are not available from this control plane',
};

export function DeploymentPage({ id }: { id: string }) {
  const { deployment, lines, feed, refresh } = useDeploymentLive(id);
  const running = deployment.state === 'ok' && !TERMINAL_STATUSES.has(deployment.value.status);
  const now = useNow(running);
  const [cancelling, setCancelling] = useState(false);
  const [actionError, setActionError] = useState<string | undefined>();
  useDocumentTitle(
    deployment.state === 'ok' ? `${deployment.value.projectSlug} · ${deployment.value.status}` : 'Deployment',
  );

  if (deployment.state === 'loading') {
    return (
      <>
        <h1 tabIndex={-1}>Deployment {shortDeploymentId(id)}</h1>
        <LoadingState label="Loading deployment…" />
      </>
    );
  }
  if (deployment.state === 'error') {
    return (
      <>
        <h1 tabIndex={-1}>Deployment {shortDeploymentId(id)}</h1>
        <ErrorState error={deployment.error} onRetry={refresh} />
      </>
    );
  }

  const d = deployment.value;
  const cancel = async () => {
    setCancelling(true);
    setActionError(undefined);
    try {
      await api.cancel(d.id);
      refresh();
    } catch (err) {
      setActionError(err instanceof ApiError ? err.message : 'Could not cancel');
    } finally {
      setCancelling(false);
    }
  };
  const took = d.finishedAt
    ? Date.parse(d.finishedAt) - Date.parse(d.createdAt)
    : now - Date.parse(d.createdAt);
  const showUpload = d.phase === 'upload' || d.phase === 'activate' || d.stats.uploadedBytes > 0;

  return (
    <>
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to="/">Projects</Link> / <Link to={`/projects/${d.projectSlug}`}>{d.projectSlug}</Link> /
      </nav>
      <div className="page-head">
        <h1 tabIndex={-1}>
          Deployment <code>{shortDeploymentId(d.id)}</code>
        </h1>
        <div className="page-actions">
          <StatusBadge status={d.status} />
          {d.isProduction && <span className="badge production">Production</span>}
          {running && (
            <button type="button" className="danger" onClick={cancel} disabled={cancelling}>
              {cancelling ? 'Cancelling…' : 'Cancel deployment'}
            </button>
          )}
        </div>
      </div>
      {actionError && (
        <p className="form-error" role="alert">
          {actionError}
        </p>
      )}
      {d.status === 'error' && (
        <div className="callout error" role="alert">
          <strong>Build failed</strong>
          <p className="mono">{d.error ?? 'The build failed without a reason.'}</p>
        </div>
      )}
      {d.status === 'cancelled' && (
        <div className="callout" role="status">
          <strong>Cancelled</strong>
          {d.error && <p>{d.error}</p>}
        </div>
      )}

      <section className="card deployment-summary" aria-label="Summary">
        <dl className="facts">
          <div>
            <dt>Production URL</dt>
            <dd>
              <a href={d.url} target="_blank" rel="noreferrer">
                {displayUrl(d.url)}
              </a>
            </dd>
          </div>
          <div>
            <dt>Permanent URL</dt>
            <dd>
              {d.status === 'ready' ? (
                <a href={d.deploymentUrl} target="_blank" rel="noreferrer">
                  {displayUrl(d.deploymentUrl)}
                </a>
              ) : (
                <span className="muted" title="Live once the deployment is ready">
                  {displayUrl(d.deploymentUrl)}
                </span>
              )}
            </dd>
          </div>
          <div>
            <dt>Commit</dt>
            <dd>
              <code title={d.commitSha ?? undefined}>{shortSha(d.commitSha)}</code>
              {d.gitRef && <span className="muted"> on {d.gitRef}</span>}
            </dd>
          </div>
          <div>
            <dt>Regions</dt>
            <dd>
              <RegionBadges ids={d.regions} />
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <time dateTime={d.createdAt}>{absoluteTime(d.createdAt)}</time>
            </dd>
          </div>
          <div>
            <dt>{d.finishedAt ? 'Took' : 'Elapsed'}</dt>
            <dd>{formatDuration(took)}</dd>
          </div>
        </dl>
        <PhaseStepper deployment={d} now={now} />
        {showUpload && <UploadProgress stats={d.stats} />}
      </section>

      <LogViewer
        lines={lines}
        live={feed === 'live' && running}
        fileName={`${d.projectSlug}-${shortDeploymentId(d.id)}`}
        emptyText={running ? 'Waiting for the first lines…' : 'This build wrote no output.'}
        notice={FEED_NOTICE[feed]}
      />
    </>
  );
}

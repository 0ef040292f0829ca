import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router';
import { rememberDeployment } from '../api/cache.js';
import { api } from '../api/endpoints.js';
import { deploymentQuery, isFinished } from '../api/queries.js';
import { BuildReport } from '../components/build-report.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { LogViewer } from '../components/log-viewer.js';
import { PhaseStepper } from '../components/phase-stepper.js';
import { RegionBadges } from '../components/region-badges.js';
import { StatusBadge } from '../components/status-badge.js';
import { UploadProgress } from '../components/upload-progress.js';
import { errorMessage } from '../lib/error-message.js';
import { usePermissions } from '../lib/use-permissions.js';
import { absoluteTime, displayUrl, formatDuration, shortDeploymentId, shortSha } from '../lib/format.js';
import { useDeploymentLogs, type LogFeed } from '../lib/use-deployment-logs.js';
import { useDocumentTitle } from '../lib/use-document-title.js';
import { useNow } from '../lib/use-now.js';

const route = getRouteApi('/deployments/$id');

const FEED_NOTICE: Partial<Record<LogFeed, string>> = {
  connecting: 'connecting…',
  polling: 'live stream unavailable, polling',
  unavailable: 'logs are not available from this control plane',
};

/**
 * A deployment as it happens. The view is polled while the build runs (only it carries upload
 * bytes and phase timings) and stops once it has finished; status changes also arrive at once
 * over the log websocket, which writes them into the same cache entry.
 */
export function DeploymentPage() {
  const { id } = route.useParams();
  const client = useQueryClient();
  const can = usePermissions();
  const deployment = useQuery(deploymentQuery(id));
  const finished = deployment.data ? isFinished(deployment.data) : false;
  const { lines, feed } = useDeploymentLogs(id, finished);
  const running = deployment.data !== undefined && !finished;
  const now = useNow(running);
  const cancel = useMutation({
    mutationFn: () => api.cancel(id),
    onSuccess: (view) => rememberDeployment(client, view),
  });
  const navigate = useNavigate();
  // A fresh build of the project that restores nothing (and saves a new cache when it succeeds).
  const redeployWithoutCache = useMutation({
    mutationFn: (slug: string) => api.redeploy(slug, { withoutCache: true }),
    onSuccess: (view) => {
      rememberDeployment(client, view);
      void navigate({ to: '/deployments/$id', params: { id: view.id } });
    },
  });
  // Only while pending: the page stays mounted for the new deployment, whose button must work.
  const redeploying = redeployWithoutCache.isPending;
  useDocumentTitle(
    deployment.data ? `${deployment.data.projectSlug} · ${deployment.data.status}` : 'Deployment',
  );

  if (deployment.isPending) {
    return (
      <>
        <h1 tabIndex={-1}>Deployment {shortDeploymentId(id)}</h1>
        <LoadingState label="Loading deployment…" />
      </>
    );
  }
  if (deployment.isError && !deployment.data) {
    return (
      <>
        <h1 tabIndex={-1}>Deployment {shortDeploymentId(id)}</h1>
        <ErrorState error={deployment.error} onRetry={() => void deployment.refetch()} />
      </>
    );
  }

  const d = deployment.data;
  const took = d.finishedAt
    ? Date.parse(d.finishedAt) - Date.parse(d.createdAt)
    : now - Date.parse(d.createdAt);
  const showUpload = d.phase === 'upload' || d.phase === 'activate' || d.stats.uploadedBytes > 0;

  return (
    <>
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to="/">Projects</Link> /{' '}
        <Link to="/projects/$slug" params={{ slug: d.projectSlug }}>
          {d.projectSlug}
        </Link>{' '}
        /
      </nav>
      <div className="page-head">
        <h1 tabIndex={-1}>
          Deployment <code>{shortDeploymentId(d.id)}</code>
        </h1>
        <div className="page-actions">
          <StatusBadge status={d.status} />
          {d.isProduction && <span className="badge production">Production</span>}
          {d.withoutCache && <span className="badge">Without cache</span>}
          {can.deploy && running && (
            <button
              type="button"
              className="danger"
              onClick={() => cancel.mutate()}
              disabled={cancel.isPending}
            >
              {cancel.isPending ? 'Cancelling…' : 'Cancel deployment'}
            </button>
          )}
          {/* A redeploy builds production; from a preview's page it would not be this preview again. */}
          {can.deploy && finished && d.target !== 'preview' && (
            <button
              type="button"
              onClick={() => redeployWithoutCache.mutate(d.projectSlug)}
              disabled={redeploying}
            >
              {redeploying ? 'Starting…' : 'Redeploy without cache'}
            </button>
          )}
        </div>
      </div>
      {redeployWithoutCache.isError && (
        <p className="form-error" role="alert">
          {errorMessage(redeployWithoutCache.error, 'Could not start a deployment')}
        </p>
      )}
      {cancel.isError && (
        <p className="form-error" role="alert">
          {errorMessage(cancel.error, 'Could not cancel')}
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
      {d.status === 'skipped' && (
        <div className="callout" role="status">
          <strong>Skipped: nothing was built</strong>
          {d.skipReason && <p>{d.skipReason}</p>}
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
              {/* A push's gitRef is its SHA: its branch says more. */}
              {d.branch ? (
                <span className="muted"> on {d.branch}</span>
              ) : (
                d.gitRef && <span className="muted"> on {d.gitRef}</span>
              )}
              {d.commitMessage && (
                <span className="commit-message" title={d.commitAuthor ?? undefined}>
                  {d.commitMessage.split('\n', 1)[0]}
                </span>
              )}
            </dd>
          </div>
          {d.target === 'preview' && (
            <div>
              <dt>Branch preview</dt>
              <dd>
                {d.branchUrl ? (
                  <a href={d.branchUrl} target="_blank" rel="noreferrer">
                    {displayUrl(d.branchUrl)}
                  </a>
                ) : (
                  <span className="muted">Once a preview of {d.branch ?? 'the branch'} is ready</span>
                )}{' '}
                <span className="badge preview">Preview</span>
              </dd>
            </div>
          )}
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

      <BuildReport deployment={d} />

      <LogViewer
        lines={lines.entries}
        count={lines.count}
        live={feed === 'live' && running}
        fileName={`${d.projectSlug}-${shortDeploymentId(d.id)}`}
        emptyText={running ? 'Waiting for the first lines…' : 'This build wrote no output.'}
        notice={
          [
            FEED_NOTICE[feed],
            lines.dropped > 0 &&
              `the first ${lines.dropped.toLocaleString()} lines are no longer kept in the page`,
          ]
            .filter(Boolean)
            .join(' · ') || undefined
        }
      />
    </>
  );
}

import type { DeploymentView, ProjectView } from '@deploysphere/contracts';
import { useEffect, useState } from 'react';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { EmptyState } from '../components/empty-state.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { StatusBadge } from '../components/status-badge.js';
import { absoluteTime, formatDuration, shortDeploymentId, shortSha, timeAgo } from '../lib/format.js';
import { useAsync } from '../lib/use-async.js';
import { Link } from '../router/link.js';

const PAGE = 20;

const duration = (d: DeploymentView) =>
  d.startedAt && d.finishedAt ? formatDuration(Date.parse(d.finishedAt) - Date.parse(d.startedAt)) : '—';

/** Newest first, paged with `before`; any ready deployment can be promoted (a rollback is one). */
export function DeploymentHistory({ project, onChanged }: { project: ProjectView; onChanged: () => void }) {
  const [first, reload] = useAsync(
    (signal) => api.deployments(project.slug, { limit: PAGE }, signal),
    [project.slug, project.productionDeploymentId],
  );
  const [more, setMore] = useState<DeploymentView[]>([]);
  const [moreState, setMoreState] = useState<{ loading: boolean; done: boolean; error?: string }>({
    loading: false,
    done: false,
  });
  const [promoting, setPromoting] = useState<DeploymentView | undefined>();
  const [promoteBusy, setPromoteBusy] = useState(false);
  const [promoteError, setPromoteError] = useState<string | undefined>();
  const [promoted, setPromoted] = useState<string | undefined>();

  useEffect(() => {
    setMore([]);
    setMoreState({ loading: false, done: false });
  }, [first]);

  // A running deployment changes under us: refresh the list until everything has settled.
  const all = first.state === 'ok' ? [...first.value, ...more] : [];
  const unsettled = all.some((d) => d.status === 'queued' || d.status === 'building');
  useEffect(() => {
    if (!unsettled) return;
    const timer = setTimeout(reload, 2000);
    return () => clearTimeout(timer);
  }, [unsettled, first, reload]);

  if (first.state === 'loading') return <LoadingState label="Loading deployments…" />;
  if (first.state === 'error') return <ErrorState error={first.error} onRetry={reload} />;
  if (all.length === 0) {
    return (
      <EmptyState title="No deployments yet">
        <p>Use Redeploy to build the project for the first time.</p>
      </EmptyState>
    );
  }

  const loadMore = async () => {
    setMoreState({ loading: true, done: false });
    try {
      const page = await api.deployments(project.slug, { limit: PAGE, before: all.at(-1)?.id });
      setMore((m) => [...m, ...page]);
      setMoreState({ loading: false, done: page.length < PAGE });
    } catch (err) {
      setMoreState({ loading: false, done: false, error: (err as Error).message });
    }
  };

  const promote = async () => {
    if (!promoting) return;
    setPromoteBusy(true);
    setPromoteError(undefined);
    try {
      await api.promote(project.slug, { deploymentId: promoting.id });
      setPromoted(`Deployment ${shortDeploymentId(promoting.id)} is now in production.`);
      setPromoting(undefined);
      onChanged();
    } catch (err) {
      setPromoteError(err instanceof ApiError ? err.message : 'Could not promote');
    } finally {
      setPromoteBusy(false);
    }
  };

  return (
    <section aria-label="Deployments">
      {promoted && (
        <p className="notice" role="status">
          {promoted}
        </p>
      )}
      <div className="table-wrap">
        <table className="history">
          <caption className="visually-hidden">Deployments of {project.slug}, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Deployment</th>
              <th scope="col">Commit</th>
              <th scope="col">Ref</th>
              <th scope="col">Duration</th>
              <th scope="col">When</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {all.map((d) => (
              <tr key={d.id} className={d.isProduction ? 'is-production' : undefined}>
                <td data-label="Status">
                  <StatusBadge status={d.status} />
                </td>
                <td data-label="Deployment">
                  <Link to={`/deployments/${d.id}`}>
                    <code>{shortDeploymentId(d.id)}</code>
                  </Link>
                  {d.isProduction && <span className="badge production">Production</span>}
                </td>
                <td data-label="Commit">
                  <code title={d.commitSha ?? undefined}>{shortSha(d.commitSha)}</code>
                </td>
                <td data-label="Ref">{d.gitRef ?? <span className="muted">default branch</span>}</td>
                <td data-label="Duration">{duration(d)}</td>
                <td data-label="When">
                  <time dateTime={d.createdAt} title={absoluteTime(d.createdAt)}>
                    {timeAgo(d.createdAt)}
                  </time>
                </td>
                <td className="row-actions">
                  {d.status === 'ready' && !d.isProduction && (
                    <button
                      type="button"
                      onClick={() => {
                        setPromoteError(undefined);
                        setPromoting(d);
                      }}
                      aria-label={`Promote ${shortDeploymentId(d.id)} to production`}
                    >
                      Promote
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {moreState.error && (
        <p className="form-error" role="alert">
          {moreState.error}
        </p>
      )}
      {first.value.length === PAGE && !moreState.done && (
        <button type="button" onClick={loadMore} disabled={moreState.loading}>
          {moreState.loading ? 'Loading…' : 'Load older deployments'}
        </button>
      )}
      {promoting && (
        <ConfirmDialog
          title="Promote to production?"
          confirmLabel="Promote"
          busy={promoteBusy}
          error={promoteError}
          onConfirm={promote}
          onCancel={() => setPromoting(undefined)}
        >
          <p>
            <strong>{project.slug}</strong> will serve deployment{' '}
            <code>{shortDeploymentId(promoting.id)}</code> (commit{' '}
            <code>{shortSha(promoting.commitSha)}</code>) at once, in every region. Nothing is rebuilt, and
            you can promote another deployment back at any time.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

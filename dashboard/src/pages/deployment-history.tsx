import type { DeploymentTarget, DeploymentView } from '@deploysphere/contracts';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useState } from 'react';
import { api } from '../api/endpoints.js';
import { deploymentHistoryQuery } from '../api/queries.js';
import { queryKeys } from '../api/query-keys.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { EmptyState } from '../components/empty-state.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { StatusBadge } from '../components/status-badge.js';
import { errorMessage } from '../lib/error-message.js';
import { usePermissions } from '../lib/use-permissions.js';
import { absoluteTime, formatDuration, shortDeploymentId, shortSha, timeAgo } from '../lib/format.js';

const route = getRouteApi('/projects/$slug/');

const firstLine = (message: string) => message.split('\n', 1)[0]!.trim();

/** A push's branch (a preview's links to its alias); else the ref an API deploy asked for. */
function branchOf(d: DeploymentView) {
  if (d.branch) {
    return d.branchUrl ? (
      <a href={d.branchUrl} target="_blank" rel="noreferrer" title={d.branchUrl}>
        {d.branch}
      </a>
    ) : (
      d.branch
    );
  }
  return d.gitRef ?? <span className="muted">default branch</span>;
}

const duration = (d: DeploymentView) =>
  d.startedAt && d.finishedAt ? formatDuration(Date.parse(d.finishedAt) - Date.parse(d.startedAt)) : '—';

/**
 * Newest first, paged with `before`; any ready deployment can be promoted (a rollback is one).
 * While a deployment runs the query refetches every loaded page, so "Load older" pages stay put.
 */
export function DeploymentHistory() {
  const { slug } = route.useParams();
  const { target, branch } = route.useSearch();
  const navigate = route.useNavigate();
  const client = useQueryClient();
  const can = usePermissions();
  const history = useInfiniteQuery(deploymentHistoryQuery(slug, { target, branch }));
  // The branches the loaded pages show, plus the one filtered on (which may be all there is).
  const branches = [
    ...new Set([
      ...(branch ? [branch] : []),
      ...(history.data?.pages.flat().flatMap((d) => (d.branch ? [d.branch] : [])) ?? []),
    ]),
  ];
  // Replace: flipping a filter should not fill the back button's history.
  const filterBy = (search: { target?: DeploymentTarget | undefined; branch?: string | undefined }) =>
    void navigate({ search: (old) => ({ ...old, ...search }), replace: true, resetScroll: false });
  const [promoting, setPromoting] = useState<DeploymentView | undefined>();
  const promote = useMutation({
    mutationFn: (d: DeploymentView) => api.promote(slug, { deploymentId: d.id }),
    onSuccess: () => {
      setPromoting(undefined);
      // Production moved: the project's URL target and every row's marker change.
      void client.invalidateQueries({ queryKey: queryKeys.project(slug) });
      void client.invalidateQueries({ queryKey: queryKeys.projectList });
    },
  });

  const filter = (
    <div className="history-filter">
      <label>
        Show{' '}
        <select
          value={target ?? 'all'}
          onChange={(e) =>
            filterBy({
              target: e.target.value === 'all' ? undefined : (e.target.value as DeploymentTarget),
            })
          }
        >
          <option value="all">All deployments</option>
          <option value="production">Production</option>
          <option value="preview">Previews</option>
        </select>
      </label>{' '}
      {branches.length > 0 && (
        <label>
          Branch{' '}
          <select
            value={branch ?? ''}
            onChange={(e) => filterBy({ branch: e.target.value === '' ? undefined : e.target.value })}
          >
            <option value="">Any branch</option>
            {branches.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
      )}
    </div>
  );

  if (history.isPending) return <LoadingState label="Loading deployments…" />;
  if (history.isError && !history.data) {
    return <ErrorState error={history.error} onRetry={() => void history.refetch()} />;
  }
  const all = history.data.pages.flat();
  if (all.length === 0) {
    return (
      <section aria-label="Deployments">
        {(target || branch) && filter}
        <EmptyState title={target || branch ? 'No deployments match' : 'No deployments yet'}>
          <p>
            {target === 'preview'
              ? 'A push to a branch other than the production branch makes a preview (Settings → Git).'
              : 'Use Redeploy to build the project for the first time.'}
          </p>
        </EmptyState>
      </section>
    );
  }

  return (
    <section aria-label="Deployments">
      {filter}
      {promote.isSuccess && (
        <p className="notice" role="status">
          Deployment {shortDeploymentId(promote.variables.id)} is now in production.
        </p>
      )}
      <div className="table-wrap">
        <table className="history">
          <caption className="visually-hidden">Deployments of {slug}, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Deployment</th>
              <th scope="col">Commit</th>
              <th scope="col">Branch</th>
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
                  <Link to="/deployments/$id" params={{ id: d.id }}>
                    <code>{shortDeploymentId(d.id)}</code>
                  </Link>
                  {d.isProduction && <span className="badge production">Production</span>}
                  {d.target === 'preview' && <span className="badge preview">Preview</span>}
                </td>
                <td data-label="Commit">
                  <code title={d.commitSha ?? undefined}>{shortSha(d.commitSha)}</code>
                  {d.commitMessage && (
                    <span
                      className="commit-message"
                      title={[d.commitMessage, d.commitAuthor].filter(Boolean).join('\n— ')}
                    >
                      {firstLine(d.commitMessage)}
                    </span>
                  )}
                </td>
                <td data-label="Branch">{branchOf(d)}</td>
                <td data-label="Duration">{duration(d)}</td>
                <td data-label="When">
                  <time dateTime={d.createdAt} title={absoluteTime(d.createdAt)}>
                    {timeAgo(d.createdAt)}
                  </time>
                </td>
                <td className="row-actions">
                  {can.deploy && d.status === 'ready' && !d.isProduction && (
                    <button
                      type="button"
                      onClick={() => {
                        promote.reset();
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
      {history.isFetchNextPageError && (
        <p className="form-error" role="alert">
          {history.error.message}
        </p>
      )}
      {history.hasNextPage && (
        <button
          type="button"
          onClick={() => void history.fetchNextPage()}
          disabled={history.isFetchingNextPage}
        >
          {history.isFetchingNextPage ? 'Loading…' : 'Load older deployments'}
        </button>
      )}
      {promoting && (
        <ConfirmDialog
          title="Promote to production?"
          confirmLabel="Promote"
          busy={promote.isPending}
          error={promote.isError ? errorMessage(promote.error, 'Could not promote') : undefined}
          onConfirm={() => promote.mutate(promoting)}
          onCancel={() => setPromoting(undefined)}
        >
          <p>
            <strong>{slug}</strong> will serve deployment <code>{shortDeploymentId(promoting.id)}</code>{' '}
            (commit <code>{shortSha(promoting.commitSha)}</code>) at once, in every region. Nothing is
            rebuilt, and you can promote another deployment back at any time.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

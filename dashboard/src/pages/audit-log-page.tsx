import { AUDIT_ACTIONS, type AuditAction } from '@deploysphere/contracts';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { auditQuery, meQuery, membersQuery } from '../api/queries.js';
import { EmptyState } from '../components/empty-state.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { absoluteTime, timeAgo } from '../lib/format.js';
import { canManageTeam } from '../lib/permissions.js';
import { useDocumentTitle } from '../lib/use-document-title.js';
import { NotFoundPage } from './not-found-page.js';

const route = getRouteApi('/teams/$team/audit');

/** A detail's value as text: names and roles are strings, lists of names are arrays. */
function detailText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(detailText).join(', ');
  return JSON.stringify(value);
}

/**
 * A team's audit log (owners only, as the API decides): who did what, when and from where,
 * newest first. The filters live in the URL (`?action=&actor=`), so a filtered view can be
 * shared and survives a reload; "Load older" asks for the page before the last `nextBefore`.
 */
export function AuditLogPage() {
  const { team: slug } = route.useParams();
  const me = useQuery(meQuery());
  const team = me.data?.teams.find((t) => t.slug === slug);
  useDocumentTitle(team ? `Audit log · ${team.name}` : 'Audit log');

  if (me.isPending) return <LoadingState label="Loading…" />;
  if (me.isError && !me.data) return <ErrorState error={me.error} onRetry={() => void me.refetch()} />;
  if (!team) return <NotFoundPage />;
  return (
    <>
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to="/teams/$team" params={{ team: team.slug }}>
          {team.name}
        </Link>{' '}
        /
      </nav>
      <div className="page-head">
        <h1 tabIndex={-1}>Audit log</h1>
      </div>
      {canManageTeam(me.data, team) ? (
        <AuditLog team={team.slug} />
      ) : (
        <p className="notice" role="status">
          Only the team&apos;s owners read its audit log.
        </p>
      )}
    </>
  );
}

function AuditLog({ team }: { team: string }) {
  const { action, actor } = route.useSearch();
  const navigate = route.useNavigate();
  const members = useQuery(membersQuery(team));
  const log = useInfiniteQuery(auditQuery(team, { action, actor }));
  // Replace: flipping a filter should not fill the back button's history.
  const filterBy = (search: { action?: AuditAction | undefined; actor?: string | undefined }) =>
    void navigate({ search: (old) => ({ ...old, ...search }), replace: true, resetScroll: false });
  const filtered = action !== undefined || actor !== undefined;

  const filters = (
    <div className="history-filter">
      <label>
        Action{' '}
        <select
          value={action ?? ''}
          onChange={(e) =>
            filterBy({ action: e.target.value === '' ? undefined : (e.target.value as AuditAction) })
          }
        >
          <option value="">All actions</option>
          {AUDIT_ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </label>
      <label>
        Member{' '}
        <select
          value={actor ?? ''}
          onChange={(e) => filterBy({ actor: e.target.value === '' ? undefined : e.target.value })}
        >
          <option value="">Anyone</option>
          {/* The one filtered on, even if they have left the team since. */}
          {actor && !members.data?.some((m) => m.userId === actor) && <option value={actor}>{actor}</option>}
          {members.data?.map((m) => (
            <option key={m.userId} value={m.userId}>
              {m.name} ({m.email})
            </option>
          ))}
        </select>
      </label>
    </div>
  );

  if (log.isPending)
    return (
      <section aria-label="Audit log entries">
        {filters}
        <LoadingState label="Loading the audit log…" />
      </section>
    );
  if (log.isError && !log.data)
    return (
      <section aria-label="Audit log entries">
        {filters}
        <ErrorState error={log.error} onRetry={() => void log.refetch()} />
      </section>
    );
  const entries = log.data.pages.flatMap((p) => p.entries);

  return (
    <section aria-label="Audit log entries">
      {filters}
      {entries.length === 0 ? (
        <EmptyState title={filtered ? 'No entries match' : 'No entries yet'}>
          <p>
            Deploys, promotes, settings, env and domain changes, member changes and tokens are recorded here.
          </p>
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="history audit">
            <caption className="visually-hidden">Audit log of {team}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">From</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td data-label="Time">
                    <time dateTime={e.at} title={timeAgo(e.at)}>
                      {absoluteTime(e.at)}
                    </time>
                  </td>
                  <td data-label="Who">
                    {e.actor.label}
                    {e.actor.kind === 'token' && (
                      <span
                        className="muted"
                        title={e.actor.tokenId ? `Token ${e.actor.tokenId}` : undefined}
                      >
                        {' '}
                        with an API token
                      </span>
                    )}
                  </td>
                  <td data-label="Action">
                    <code>{e.action}</code>
                  </td>
                  <td data-label="Target">
                    <code>{e.target}</code>
                  </td>
                  <td data-label="From">{e.ip}</td>
                  <td data-label="Details">
                    {Object.keys(e.details).length === 0 ? (
                      <span className="muted">—</span>
                    ) : (
                      <ul className="audit-details">
                        {Object.entries(e.details).map(([k, v]) => (
                          <li key={k}>
                            <span className="muted">{k}:</span> {detailText(v)}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {log.isFetchNextPageError && (
        <p className="form-error" role="alert">
          {log.error.message}
        </p>
      )}
      {log.hasNextPage && (
        <button type="button" onClick={() => void log.fetchNextPage()} disabled={log.isFetchingNextPage}>
          {log.isFetchingNextPage ? 'Loading…' : 'Load older entries'}
        </button>
      )}
    </section>
  );
}

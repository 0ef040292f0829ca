import { TRAFFIC_WINDOWS, type TrafficWindow } from '@deploysphere/contracts';
import { useQuery } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { trafficQuery } from '../api/queries.js';
import { EmptyState } from '../components/empty-state.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { TrafficChart } from '../components/traffic-chart.js';

const route = getRouteApi('/projects/$slug/traffic');

/** The window is the URL's `?window=`, so a chart can be shared and survives a reload. */
export function ProjectTraffic() {
  const { slug } = route.useParams();
  const { window } = route.useSearch();
  const navigate = route.useNavigate();
  const traffic = useQuery(trafficQuery(slug, window));

  return (
    <section className="card" aria-labelledby="traffic-title">
      <div className="section-head">
        <h2 id="traffic-title">Traffic</h2>
        <label>
          Window{' '}
          <select
            value={window}
            // Replace: stepping through windows should not fill the back button's history; and the
            // page stays where it is scrolled to.
            onChange={(e) =>
              void navigate({
                search: { window: e.target.value as TrafficWindow },
                replace: true,
                resetScroll: false,
              })
            }
          >
            {Object.keys(TRAFFIC_WINDOWS).map((w) => (
              <option key={w} value={w}>
                last {w}
              </option>
            ))}
          </select>
        </label>
      </div>
      {traffic.isPending && <LoadingState label="Loading traffic…" />}
      {traffic.isError && !traffic.data && (
        <ErrorState error={traffic.error} onRetry={() => void traffic.refetch()} />
      )}
      {traffic.data &&
        (traffic.data.points.length === 0 ? (
          <EmptyState title="No requests in this window">
            <p>Requests to the production URL, deployment URLs and custom domains show up here.</p>
          </EmptyState>
        ) : (
          <TrafficChart view={traffic.data} />
        ))}
    </section>
  );
}

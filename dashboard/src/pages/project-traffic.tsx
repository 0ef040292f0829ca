import { TRAFFIC_WINDOWS, type TrafficWindow } from '@deploysphere/contracts';
import { useEffect, useState } from 'react';
import { api } from '../api/endpoints.js';
import { EmptyState } from '../components/empty-state.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { TrafficChart } from '../components/traffic-chart.js';
import { useAsync } from '../lib/use-async.js';

const REFRESH_MS = 15_000;

export function ProjectTraffic({ slug }: { slug: string }) {
  const [window, setWindow] = useState<TrafficWindow>('6h');
  const [traffic, reload] = useAsync((signal) => api.traffic(slug, window, signal), [slug, window]);

  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);

  return (
    <section className="card" aria-labelledby="traffic-title">
      <div className="section-head">
        <h2 id="traffic-title">Traffic</h2>
        <label>
          Window{' '}
          <select value={window} onChange={(e) => setWindow(e.target.value as TrafficWindow)}>
            {Object.keys(TRAFFIC_WINDOWS).map((w) => (
              <option key={w} value={w}>
                last {w}
              </option>
            ))}
          </select>
        </label>
      </div>
      {traffic.state === 'loading' && <LoadingState label="Loading traffic…" />}
      {traffic.state === 'error' && <ErrorState error={traffic.error} onRetry={reload} />}
      {traffic.state === 'ok' &&
        (traffic.value.points.length === 0 ? (
          <EmptyState title="No requests in this window">
            <p>Requests to the production URL, deployment URLs and custom domains show up here.</p>
          </EmptyState>
        ) : (
          <TrafficChart view={traffic.value} />
        ))}
    </section>
  );
}

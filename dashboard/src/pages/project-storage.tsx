import { useQuery } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { storageQuery } from '../api/queries.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { formatBytes } from '../lib/format.js';

const route = getRouteApi('/projects/$slug/storage');

/**
 * What the project stores: its live deployments' distinct files and its build caches per region,
 * and the retention in force (docs/retention.md). Settings change it; garbage collection applies it.
 */
export function ProjectStorage() {
  const { slug } = route.useParams();
  const storage = useQuery(storageQuery(slug));
  const view = storage.data;
  return (
    <section className="card" aria-labelledby="storage-title">
      <div className="section-head">
        <h2 id="storage-title">Storage</h2>
      </div>
      {storage.isPending && <LoadingState label="Loading storage…" />}
      {storage.isError && !view && (
        <ErrorState error={storage.error} onRetry={() => void storage.refetch()} />
      )}
      {view && (
        <>
          <dl className="facts">
            <div>
              <dt>Live deployments</dt>
              <dd>
                {view.deployments.live} ({formatBytes(view.deployments.liveBytes)} as built)
              </dd>
            </div>
            <div>
              <dt>Expired deployments</dt>
              <dd>{view.deployments.expired}</dd>
            </div>
            <div>
              <dt>Kept per branch</dt>
              <dd>
                last {view.effective.retainReadyPerBranch} ready
                {view.retention.retainReadyPerBranch === null && ' (platform default)'}
              </dd>
            </div>
            <div>
              <dt>Previews kept for</dt>
              <dd>
                {view.effective.previewMaxAgeDays} days
                {view.retention.previewMaxAgeDays === null && ' (platform default)'}
              </dd>
            </div>
            <div>
              <dt>Build cache unused for</dt>
              <dd>
                {view.effective.buildCacheExpiryDays} days is deleted
                {view.retention.buildCacheExpiryDays === null && ' (platform default)'}
              </dd>
            </div>
          </dl>
          <table>
            <caption>Per region</caption>
            <thead>
              <tr>
                <th scope="col">Region</th>
                <th scope="col">Files</th>
                <th scope="col">File bytes</th>
                <th scope="col">Build cache</th>
              </tr>
            </thead>
            <tbody>
              {view.regions.map((r) => (
                <tr key={r.region}>
                  <th scope="row">{r.region}</th>
                  <td>{r.blobs}</td>
                  <td>{formatBytes(r.blobBytes)}</td>
                  <td>
                    {formatBytes(r.cacheBytes)} in {r.cacheObjects} objects
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

import type { DeploymentStatus } from '@deploysphere/contracts';

const LABELS: Record<DeploymentStatus, string> = {
  queued: 'Queued',
  building: 'Building',
  ready: 'Ready',
  error: 'Error',
  cancelled: 'Cancelled',
  skipped: 'Skipped',
};

/** Colour plus a text label and a shape, so status never relies on colour alone. */
export function StatusBadge({ status }: { status: DeploymentStatus | null }) {
  if (!status) return <span className="badge status status-none">No deployments</span>;
  return (
    <span className={`badge status status-${status}`} data-status={status}>
      <span className="status-dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}

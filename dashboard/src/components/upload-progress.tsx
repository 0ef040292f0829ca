import type { DeploymentView } from '@deploysphere/contracts';
import { formatBytes } from '../lib/format.js';

/** Bytes uploaded to the regions so far; indeterminate until the worker knows the total. */
export function UploadProgress({ stats }: { stats: DeploymentView['stats'] }) {
  const total = stats.totalBytes;
  const done = stats.uploadedBytes;
  return (
    <div className="upload-progress">
      <label htmlFor="upload-progress">Upload</label>
      <progress
        id="upload-progress"
        max={total || undefined}
        value={total ? Math.min(done, total) : undefined}
      />
      <span className="upload-numbers">
        {formatBytes(done)}
        {total ? ` of ${formatBytes(total)}` : ''}
        {stats.files ? ` · ${stats.files} ${stats.files === 1 ? 'file' : 'files'}` : ''}
      </span>
    </div>
  );
}

import type { BuildCacheReport, BuildPresetReport, DeploymentView } from '@deploysphere/contracts';
import { formatBytes } from '../lib/format.js';

const PACKAGE_MANAGERS: Record<NonNullable<BuildPresetReport['packageManager']>, string> = {
  npm: 'npm',
  pnpm: 'pnpm',
  'yarn-classic': 'Yarn classic',
  'yarn-berry': 'Yarn berry',
  bun: 'Bun',
};

const FROM: Record<BuildPresetReport['installFrom'], string> = {
  project: 'from the project settings',
  preset: 'detected',
};

const NOT_RESTORED: Record<NonNullable<BuildCacheReport['skipped']>, string> = {
  disabled: 'the build cache is off for this project',
  'without-cache': 'deployed without cache',
  miss: 'no cache yet for this lockfile or branch',
  corrupt: 'the cache was unreadable and was ignored',
  error: 'the cache could not be reached',
};

const SOURCES: Record<NonNullable<BuildCacheReport['source']>, string> = {
  lockfile: 'this lockfile',
  branch: "the branch's newest cache",
  'production-branch': "the production branch's newest cache",
};

function Command({ command, from }: { command: string; from: BuildPresetReport['installFrom'] }) {
  return (
    <>
      {command ? <code>{command}</code> : <span>skipped</span>} <span className="muted">({FROM[from]})</span>
    </>
  );
}

/** "restored exact", in words: what came back, from which key and source, and its size. */
export function cacheSummary(cache: BuildCacheReport): string {
  if (cache.restored === 'none') {
    return `Not restored: ${cache.skipped ? NOT_RESTORED[cache.skipped] : 'nothing found'}`;
  }
  const what =
    cache.restored === 'exact'
      ? 'Restored exact: node_modules and caches'
      : 'Restored partial: package manager and framework caches';
  const parts = [
    cache.source ? `from ${SOURCES[cache.source]}` : undefined,
    cache.restoredBytes !== undefined ? `${formatBytes(cache.restoredBytes)} compressed` : undefined,
  ].filter(Boolean);
  return parts.length ? `${what}, ${parts.join(', ')}` : what;
}

/**
 * What the build detected and ran, and what its cache did: the framework preset and why, the
 * package manager, each command and where it came from, the cache result and the clone's size.
 */
export function BuildReport({ deployment: d }: { deployment: DeploymentView }) {
  const { preset, cache, cloneBytes, runner } = d;
  if (!preset && !cache && cloneBytes === null && !d.withoutCache && !runner) return null;
  return (
    <section className="card build-report" aria-label="Build">
      <h2>Build</h2>
      <dl className="facts">
        {preset && (
          <>
            <div>
              <dt>Framework</dt>
              <dd>
                <strong>{preset.name}</strong>
                <div className="muted">{preset.reason}</div>
              </dd>
            </div>
            <div>
              <dt>Package manager</dt>
              <dd>{preset.packageManager ? PACKAGE_MANAGERS[preset.packageManager] : 'none'}</dd>
            </div>
            <div>
              <dt>Install command</dt>
              <dd>
                <Command command={preset.installCommand} from={preset.installFrom} />
              </dd>
            </div>
            <div>
              <dt>Build command</dt>
              <dd>
                <Command command={preset.buildCommand} from={preset.buildFrom} />
              </dd>
            </div>
            <div>
              <dt>Output directory</dt>
              <dd>
                <code>{preset.outputDir ?? '—'}</code>
              </dd>
            </div>
            {preset.nodeVersion && (
              <div>
                <dt>Node</dt>
                <dd>
                  {preset.nodeVersion}
                  {preset.nodeVersionRequested && (
                    <span className="muted"> (asked for {preset.nodeVersionRequested})</span>
                  )}
                </dd>
              </div>
            )}
          </>
        )}
        <div>
          <dt>Build cache</dt>
          <dd>
            {cache ? (
              <>
                {cacheSummary(cache)}
                {cache.key && (
                  <div className="muted">
                    key <code title={cache.key}>{cache.key.slice(0, 12)}</code>
                  </div>
                )}
              </>
            ) : d.withoutCache ? (
              'Not restored: deployed without cache'
            ) : (
              <span className="muted">not known yet</span>
            )}
          </dd>
        </div>
        {runner && (
          <div>
            <dt>Ran on</dt>
            <dd>
              {runner.kind === 'ecs' ? 'ECS task' : 'Local process'} in {runner.region}
              {runner.attempt > 1 && <span className="muted"> (attempt {runner.attempt})</span>}
              {runner.taskArn && (
                <div className="muted">
                  <code title={runner.taskArn}>{runner.taskArn.split('/').pop()}</code>
                </div>
              )}
            </dd>
          </div>
        )}
        <div>
          <dt>Clone</dt>
          <dd>{cloneBytes === null ? <span className="muted">—</span> : formatBytes(cloneBytes)}</dd>
        </div>
      </dl>
    </section>
  );
}

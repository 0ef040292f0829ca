import type { LogEntry } from '@deploysphere/contracts';

/**
 * A deployment's log lines as the page holds them, in the query cache.
 *
 * Lines arrive in bursts of hundreds, flushed every 50 ms; copying a 100,000-line array on every
 * flush made a long build quadratic. So snapshots share one append-only array and differ only in
 * `count`: a snapshot reads `entries[0, count)`, which later appends never touch, so an older
 * snapshot that React is still rendering stays consistent.
 */
export interface LogLines {
  /** Shared and append-only: read only the first `count` entries. */
  readonly entries: readonly LogEntry[];
  readonly count: number;
  /** Lines dropped from the start to keep the page's memory bounded; `seq` still numbers them. */
  readonly dropped: number;
  /** The highest `seq` held, for `?after=` on a reconnect or a poll. */
  readonly lastSeq: number;
}

/** The most lines a page keeps. Past it the oldest tenth is dropped at once, so trims are rare. */
export const MAX_LOG_LINES = 100_000;

export const NO_LOG_LINES: LogLines = { entries: [], count: 0, dropped: 0, lastSeq: 0 };

/**
 * `prev` plus the lines of `batch` it does not hold yet (a replay after a reconnect repeats
 * some). Appends in place; the one copy is a trim, once every `max / 10` lines past `max`.
 */
export function appendLogLines(
  prev: LogLines | undefined,
  batch: readonly LogEntry[],
  max = MAX_LOG_LINES,
): LogLines {
  const base = prev ?? NO_LOG_LINES;
  let lastSeq = base.lastSeq;
  const fresh = batch.filter((l) => {
    if (l.seq <= lastSeq) return false;
    lastSeq = l.seq;
    return true;
  });
  if (fresh.length === 0) return base;

  // Only the newest snapshot may append; anything past its count belongs to nobody, so a write
  // from an older one (which the cache's updater never hands out) starts a fresh array instead.
  let entries = base.entries as LogEntry[];
  if (entries === NO_LOG_LINES.entries || entries.length !== base.count)
    entries = entries.slice(0, base.count);
  for (const line of fresh) entries.push(line);

  let dropped = base.dropped;
  if (entries.length > max) {
    const keep = max - Math.floor(max / 10);
    dropped += entries.length - keep;
    entries = entries.slice(entries.length - keep);
  }
  return { entries, count: entries.length, dropped, lastSeq };
}

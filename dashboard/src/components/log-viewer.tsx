import type { LogEntry } from '@deploysphere/contracts';
import {
  memo,
  useCallback,
  useDeferredValue,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type UIEvent,
} from 'react';
import { AnsiText, plainText } from './ansi-text.js';

/** Every row is one line high, so the window is plain arithmetic and needs no measuring. */
export const LOG_ROW_HEIGHT = 20;
const OVERSCAN = 12;
/** Used until the container is measured (and in jsdom, which has no layout). */
const FALLBACK_VIEWPORT = 480;

interface LogViewerProps {
  lines: readonly LogEntry[];
  /**
   * How many of `lines` to show; all of them by default. The live feed appends to one shared
   * array rather than copying it on every flush, and passes the count it had when it flushed.
   */
  count?: number;
  /** Lines are still arriving: shows the live marker and keeps following them. */
  live: boolean;
  /** Name of the downloaded file, without extension. */
  fileName: string;
  /** What to say while there are no lines yet. */
  emptyText: string;
  /** A note above the lines, e.g. that the live stream fell back to polling. */
  notice?: string | undefined;
}

/** One display row: a log line, or one line of a message that holds newlines. */
interface Row {
  line: LogEntry;
  text: string;
  /** Continuation rows carry no line number. */
  first: boolean;
  key: string;
}

/**
 * Rows are one line high, so a message with newlines (a failure's summary, say) takes several.
 * Output is almost always single-line: then no row objects are made at all.
 */
function toRows(lines: readonly LogEntry[], count: number): { count: number; at: (i: number) => Row } {
  let multiline = false;
  for (let i = 0; i < count && !multiline; i++) multiline = lines[i]!.message.includes('\n');
  if (!multiline) {
    return {
      count,
      at: (i) => {
        const line = lines[i]!;
        return { line, text: line.message, first: true, key: String(line.seq) };
      },
    };
  }
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    const line = lines[i]!;
    if (!line.message.includes('\n'))
      rows.push({ line, text: line.message, first: true, key: String(line.seq) });
    else
      line.message
        .split('\n')
        .forEach((text, i) => rows.push({ line, text, first: i === 0, key: `${line.seq}.${i}` }));
  }
  return { count: rows.length, at: (i) => rows[i]! };
}

const LogRow = memo(function LogRow({ row, top }: { row: Row; top: number }) {
  const { line } = row;
  return (
    <div className={`log-row log-${line.stream}`} style={{ top }} data-seq={row.first ? line.seq : undefined}>
      <span className="log-ln" aria-hidden="true">
        {row.first ? line.seq : ''}
      </span>
      {line.stream === 'stderr' && row.first && <span className="visually-hidden">stderr: </span>}
      <span className="log-msg">
        <AnsiText text={row.text} />
      </span>
    </div>
  );
});

/**
 * The build log: ANSI colours, stderr highlighted, line numbers, filter, download, and auto-scroll
 * that pauses when the reader scrolls up. Only the rows in view (plus a small overscan) are in
 * the DOM, so 100,000 lines cost what 60 do.
 */
export function LogViewer({
  lines,
  count = lines.length,
  live,
  fileName,
  emptyText,
  notice,
}: LogViewerProps) {
  const [query, setQuery] = useState('');
  const [stderrOnly, setStderrOnly] = useState(false);
  const [follow, setFollow] = useState(true);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(FALLBACK_VIEWPORT);
  const scroller = useRef<HTMLDivElement>(null);

  // Typing stays responsive while a long log is being filtered.
  const deferredQuery = useDeferredValue(query.trim().toLowerCase());
  const shown = useMemo(() => {
    if (!deferredQuery && !stderrOnly) return { lines, count };
    const matching: LogEntry[] = [];
    for (let i = 0; i < count; i++) {
      const l = lines[i]!;
      if (stderrOnly && l.stream !== 'stderr') continue;
      if (deferredQuery && !plainText(l.message).toLowerCase().includes(deferredQuery)) continue;
      matching.push(l);
    }
    return { lines: matching, count: matching.length };
  }, [lines, count, deferredQuery, stderrOnly]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const measure = () => setViewport(el.clientHeight || FALLBACK_VIEWPORT);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const display = useMemo(() => toRows(shown.lines, shown.count), [shown]);
  const total = display.count * LOG_ROW_HEIGHT;
  useLayoutEffect(() => {
    const el = scroller.current;
    if (follow && el) el.scrollTop = el.scrollHeight;
  }, [follow, total]);

  const onScroll = useCallback(
    (e: UIEvent<HTMLDivElement>) => {
      const el = e.currentTarget;
      setScrollTop(el.scrollTop);
      const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - LOG_ROW_HEIGHT;
      // Scrolling up pauses following; scrolling back to the end resumes it.
      if (atBottom !== follow) setFollow(atBottom);
    },
    [follow],
  );

  // While following, the window is the end of the list, even before the scroll event lands.
  const top = follow ? Math.max(0, total - viewport) : scrollTop;
  const first = Math.max(0, Math.floor(top / LOG_ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(display.count, Math.ceil((top + viewport) / LOG_ROW_HEIGHT) + OVERSCAN);
  const rows = [];
  for (let i = first; i < last; i++) {
    const row = display.at(i);
    rows.push(<LogRow key={row.key} row={row} top={i * LOG_ROW_HEIGHT} />);
  }

  const download = () => {
    const text = lines
      .slice(0, count)
      .map((l) => `${l.stream === 'stderr' ? '! ' : ''}${plainText(l.message)}`)
      .join('\n');
    const url = URL.createObjectURL(new Blob([`${text}\n`], { type: 'text/plain;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${fileName}.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  };

  const filtered = shown.count !== count;
  return (
    <section className="log-viewer" aria-label="Build logs">
      <div className="log-toolbar">
        <div className="log-filter">
          <label htmlFor="log-filter">Filter logs</label>
          <input
            id="log-filter"
            type="search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            placeholder="Search this build's output"
            autoComplete="off"
          />
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={stderrOnly} onChange={(e) => setStderrOnly(e.target.checked)} />
          stderr only
        </label>
        <button type="button" aria-pressed={!follow} onClick={() => setFollow(!follow)}>
          {follow ? 'Pause auto-scroll' : 'Resume auto-scroll'}
        </button>
        <button type="button" onClick={download} disabled={count === 0}>
          Download
        </button>
      </div>
      <p className="log-meta" aria-live="polite">
        {live && (
          <span className="live-dot" aria-label="Live">
            ●
          </span>
        )}
        {filtered
          ? `${shown.count.toLocaleString()} of ${count.toLocaleString()} lines`
          : `${count.toLocaleString()} lines`}
        {notice && <span className="log-notice"> · {notice}</span>}
      </p>
      <div
        ref={scroller}
        className="log-scroller"
        onScroll={onScroll}
        tabIndex={0}
        role="region"
        aria-label="Build log lines"
        data-testid="log-scroller"
      >
        {shown.count === 0 ? (
          <p className="log-empty">{filtered ? 'No lines match the filter.' : emptyText}</p>
        ) : (
          <div className="log-canvas" style={{ height: total }}>
            {rows}
          </div>
        )}
      </div>
    </section>
  );
}

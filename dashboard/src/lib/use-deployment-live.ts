import {
  LogStreamMessageSchema,
  TERMINAL_STATUSES,
  type DeploymentView,
  type LogEntry,
} from '@deploysphere/contracts';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client.js';
import { api } from '../api/endpoints.js';
import type { Load } from './use-async.js';

/** How the log lines are arriving. */
export type LogFeed = 'connecting' | 'live' | 'polling' | 'complete' | 'unavailable';

const STATUS_POLL_MS = 1000;
const LOG_POLL_MS = 1500;
const FLUSH_MS = 50;

/**
 * A deployment as it happens: the view is polled while it runs (for upload progress and phase
 * timings, which only the REST view carries), and log lines come over the websocket, which also
 * pushes status changes at once. Dropped sockets reconnect with `?after=<last seq>`, so no line is
 * lost or doubled; if the socket cannot be opened at all, lines are polled from the REST route.
 */
export function useDeploymentLive(id: string) {
  const [deployment, setDeployment] = useState<Load<DeploymentView>>({ state: 'loading' });
  const [lines, setLines] = useState<readonly LogEntry[]>([]);
  const [feed, setFeed] = useState<LogFeed>('connecting');
  const [generation, setGeneration] = useState(0);
  const terminal = useRef(false);
  const refresh = useCallback(() => setGeneration((g) => g + 1), []);

  // The REST view: first load, then polled until terminal.
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const view = await api.deployment(id, controller.signal);
        if (controller.signal.aborted) return;
        terminal.current = TERMINAL_STATUSES.has(view.status);
        setDeployment({ state: 'ok', value: view, refreshing: false });
        if (!terminal.current) timer = setTimeout(load, STATUS_POLL_MS);
      } catch (err) {
        if (controller.signal.aborted) return;
        // A blip while polling keeps the last view and retries; only a first load shows the error.
        setDeployment((prev) => (prev.state === 'ok' ? prev : { state: 'error', error: err as Error }));
        if (!(err instanceof ApiError && err.status === 404)) timer = setTimeout(load, STATUS_POLL_MS * 3);
      }
    };
    void load();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [id, generation]);

  // Log lines: websocket first, REST polling as the fallback.
  useEffect(() => {
    let closed = false;
    let lastSeq = 0;
    let buffer: LogEntry[] = [];
    let flushTimer: ReturnType<typeof setTimeout> | undefined;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let socket: WebSocket | undefined;
    let failuresBeforeOpen = 0;
    let retryDelay = 500;
    const controller = new AbortController();
    setLines([]);
    setFeed('connecting');

    // Lines arrive in bursts of hundreds; one render per burst keeps the page smooth.
    const push = (entry: LogEntry) => {
      if (entry.seq <= lastSeq) return;
      lastSeq = entry.seq;
      buffer.push(entry);
      flushTimer ??= setTimeout(flush, FLUSH_MS);
    };
    const flush = () => {
      flushTimer = undefined;
      if (buffer.length === 0 || closed) return;
      const batch = buffer;
      buffer = [];
      setLines((prev) => prev.concat(batch));
    };

    const poll = async () => {
      if (closed) return;
      setFeed('polling');
      try {
        for (;;) {
          const page = await api.logs(id, lastSeq, controller.signal);
          page.lines.forEach(push);
          if (page.lines.length < 5000) break;
        }
        flush();
        if (terminal.current) {
          setFeed('complete');
          return;
        }
      } catch (err) {
        if (closed) return;
        if (
          err instanceof ApiError &&
          err.status === 404 &&
          err.code === 'not_found' &&
          /No route/.test(err.message)
        ) {
          setFeed('unavailable');
          return;
        }
      }
      retryTimer = setTimeout(poll, LOG_POLL_MS);
    };

    const connect = () => {
      if (closed) return;
      const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
      const ws = new WebSocket(
        `${scheme}//${location.host}/api/v1/deployments/${encodeURIComponent(id)}/logs/stream?after=${lastSeq}`,
      );
      socket = ws;
      let opened = false;
      let ended = false;
      ws.onopen = () => {
        opened = true;
        failuresBeforeOpen = 0;
        retryDelay = 500;
        setFeed('live');
      };
      ws.onmessage = (event) => {
        let data: unknown;
        try {
          data = JSON.parse(String(event.data));
        } catch {
          return;
        }
        const parsed = LogStreamMessageSchema.safeParse(data);
        if (!parsed.success) return;
        const msg = parsed.data;
        if (msg.type === 'log') {
          push({ seq: msg.seq, ts: msg.ts, stream: msg.stream, message: msg.message });
        } else if (msg.type === 'status') {
          setDeployment((prev) =>
            prev.state === 'ok'
              ? { ...prev, value: { ...prev.value, status: msg.status, phase: msg.phase, error: msg.error } }
              : prev,
          );
          // A terminal status carries no stats or finish time: fetch the full view once.
          if (TERMINAL_STATUSES.has(msg.status)) refresh();
        } else if (msg.type === 'end') {
          ended = true;
          flush();
          setFeed('complete');
          refresh();
        }
      };
      ws.onclose = () => {
        if (closed || ended) return;
        flush();
        if (!opened && ++failuresBeforeOpen >= 2) {
          // The stream route is unreachable (e.g. an older control plane): poll instead.
          void poll();
          return;
        }
        setFeed('connecting');
        retryTimer = setTimeout(connect, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 5000);
      };
    };
    connect();

    return () => {
      closed = true;
      controller.abort();
      clearTimeout(flushTimer);
      clearTimeout(retryTimer);
      if (socket) {
        socket.onclose = null;
        socket.onmessage = null;
        // Closing a socket that is still connecting logs a console warning in Chromium; let it
        // open and close it then.
        if (socket.readyState === WebSocket.CONNECTING) {
          const s = socket;
          s.onopen = () => s.close(1000);
        } else socket.close(1000);
      }
    };
  }, [id, refresh]);

  return { deployment, lines, feed, refresh };
}

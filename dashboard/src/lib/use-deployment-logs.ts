import { LogStreamMessageSchema, TERMINAL_STATUSES, type LogEntry } from '@deploysphere/contracts';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { deploymentFinished, patchDeployment } from '../api/cache.js';
import { ApiError } from '../api/client.js';
import { deploymentLogsQuery } from '../api/queries.js';
import { queryKeys } from '../api/query-keys.js';
import { appendLogLines, NO_LOG_LINES, type LogLines } from './log-lines.js';

/** How the log lines are arriving. */
export type LogFeed = 'connecting' | 'live' | 'polling' | 'complete' | 'unavailable';

const FLUSH_MS = 50;
const LOG_POLL_MS = 1500;

/**
 * A deployment's log lines, live. They come over the websocket, which also pushes status
 * changes; both are written into the query cache, so the deployment view and the history update
 * at once. A dropped socket reconnects with `?after=<last seq>` and backoff (0.5 s up to 5 s), so
 * no line is lost or doubled. If the socket cannot be opened twice in a row, the lines query
 * polls the REST route instead until the deployment has finished.
 *
 * The lines stay in the cache after the page is left, so coming back shows them at once and
 * the socket only asks for what came after.
 */
export function useDeploymentLogs(id: string, finished: boolean): { lines: LogLines; feed: LogFeed } {
  const client = useQueryClient();
  const [feed, setFeed] = useState<LogFeed>('connecting');
  const polling = feed === 'polling';
  const logs = useQuery({
    ...deploymentLogsQuery(id),
    enabled: polling,
    refetchInterval: polling && !finished ? LOG_POLL_MS : false,
  });

  // Websocket first.
  useEffect(() => {
    const key = queryKeys.deploymentLogs(id);
    let closed = false;
    let buffer: LogEntry[] = [];
    let flushTimer: ReturnType<typeof setTimeout> | undefined;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let socket: WebSocket | undefined;
    let failuresBeforeOpen = 0;
    let retryDelay = 500;
    // Lines already held (from an earlier visit) are not asked for again.
    let lastSeq = client.getQueryData<LogLines>(key)?.lastSeq ?? 0;
    let toldFinished = false;
    const finish = () => {
      if (!toldFinished) deploymentFinished(client, id);
      toldFinished = true;
    };
    setFeed('connecting');

    // Lines arrive in bursts of hundreds; one cache write (one render) per burst keeps it smooth.
    const flush = () => {
      flushTimer = undefined;
      if (buffer.length === 0 || closed) return;
      const batch = buffer;
      buffer = [];
      client.setQueryData<LogLines>(key, (prev) => appendLogLines(prev, batch));
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
          if (msg.seq <= lastSeq) return;
          lastSeq = msg.seq;
          buffer.push({ seq: msg.seq, ts: msg.ts, stream: msg.stream, message: msg.message });
          flushTimer ??= setTimeout(flush, FLUSH_MS);
        } else if (msg.type === 'status') {
          patchDeployment(client, id, { status: msg.status, phase: msg.phase, error: msg.error });
          if (TERMINAL_STATUSES.has(msg.status)) finish();
        } else if (msg.type === 'end') {
          ended = true;
          flush();
          setFeed('complete');
          finish();
        }
      };
      ws.onclose = () => {
        if (closed || ended) return;
        flush();
        if (!opened && ++failuresBeforeOpen >= 2) {
          // The stream route is unreachable (e.g. an older control plane): the query polls instead.
          setFeed('polling');
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
  }, [client, id]);

  // Polling: once the deployment has finished, one last read takes the final lines.
  const { refetch } = logs;
  useEffect(() => {
    if (!polling || !finished) return;
    let current = true;
    void refetch().then((result) => {
      if (current && !result.isError) setFeed('complete');
    });
    return () => {
      current = false;
    };
  }, [polling, finished, refetch]);

  // A control plane without the logs route at all: say so rather than poll forever.
  const { error } = logs;
  useEffect(() => {
    if (
      error instanceof ApiError &&
      error.status === 404 &&
      error.code === 'not_found' &&
      /No route/.test(error.message)
    ) {
      setFeed('unavailable');
    }
  }, [error]);

  return { lines: logs.data ?? NO_LOG_LINES, feed };
}

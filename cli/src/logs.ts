import {
  DeploymentLogsResponseSchema,
  LogStreamMessageSchema,
  TERMINAL_STATUSES,
  type DeploymentStatus,
} from '@deploysphere/contracts';
import WebSocket from 'ws';
import type { ApiClient } from './api-client.js';
import { CliError } from './errors.js';
import type { Output } from './output.js';

/** Every line so far, page by page. */
export async function printLogs(api: ApiClient, out: Output, id: string): Promise<number> {
  let after = 0;
  let count = 0;
  for (;;) {
    const page = await api.get(
      `/deployments/${id}/logs?after=${after}&limit=5000`,
      DeploymentLogsResponseSchema,
    );
    for (const l of page.lines) out.line(l.message);
    count += page.lines.length;
    if (page.lines.length === 0 || page.nextAfter === after) return count;
    after = page.nextAfter;
  }
}

/**
 * Follows the build log over the websocket (replay, then live) until the deployment is final.
 * Resolves with its final status.
 */
export function followLogs(
  api: ApiClient,
  out: Output,
  id: string,
): Promise<{ status: DeploymentStatus; lines: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(api.wsUrl(`/deployments/${id}/logs/stream`), {
      headers: { authorization: api.authorization },
    });
    let lines = 0;
    let status: DeploymentStatus | undefined;
    ws.on('unexpected-response', (_req, res) => {
      const code = res.statusCode ?? 0;
      reject(
        code === 401
          ? CliError.auth('The API token was refused')
          : code === 404
            ? new CliError('not_found', `Deployment ${id} not found`, 4)
            : CliError.network(`The log stream answered HTTP ${code}`),
      );
    });
    ws.on('message', (data) => {
      const parsed = LogStreamMessageSchema.safeParse(JSON.parse(String(data)));
      if (!parsed.success) return;
      const m = parsed.data;
      if (m.type === 'log') {
        lines += 1;
        out.line(m.message);
      } else if (m.type === 'status') {
        status = m.status;
        out.info(`status: ${m.status}${m.phase ? ` (${m.phase})` : ''}${m.error ? `: ${m.error}` : ''}`);
      } else if (m.type === 'end') {
        status = m.status;
      } else if (m.type === 'error') {
        out.info(`the log stream ended: ${m.message}`);
      }
    });
    ws.on('error', (err) => reject(CliError.network(`The log stream failed: ${err.message}`, err)));
    ws.on('close', (code) => {
      if (status && TERMINAL_STATUSES.has(status)) resolve({ status, lines });
      else reject(CliError.network(`The log stream closed (${code}) before the deployment finished`));
    });
  });
}

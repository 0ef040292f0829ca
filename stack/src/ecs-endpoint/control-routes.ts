import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { messageOf } from './errors.js';
import { applyFault, faultRequestSchema, UnknownTaskError } from './faults.js';
import type { EcsFaults, RecordedEcsRequest } from './types.js';

/** The endpoint's own paths. The SDK only ever posts to `/`, so nothing here can collide. */
export const CONTROL_PREFIX = '/_deploysphere/';

export interface ControlDeps {
  faults: EcsFaults;
  requests: readonly RecordedEcsRequest[];
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * `GET /_deploysphere/requests` and `POST /_deploysphere/faults`: the fault controls and the
 * request record for a test driving an endpoint that another process started (docs/local-ecs-endpoint.md).
 */
export async function handleControl(
  deps: ControlDeps,
  req: IncomingMessage,
  path: string,
  raw: string,
  res: ServerResponse,
): Promise<void> {
  if (path === `${CONTROL_PREFIX}requests` && req.method === 'GET') {
    return sendJson(res, 200, deps.requests);
  }
  if (path === `${CONTROL_PREFIX}faults` && req.method === 'POST') {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return sendJson(res, 400, { error: 'the body is not JSON' });
    }
    const parsed = faultRequestSchema.safeParse(json);
    if (!parsed.success) return sendJson(res, 400, { error: z.prettifyError(parsed.error) });
    try {
      await applyFault(deps.faults, parsed.data);
      return sendJson(res, 200, { ok: true });
    } catch (err) {
      return sendJson(res, err instanceof UnknownTaskError ? 404 : 409, { error: messageOf(err) });
    }
  }
  return sendJson(res, 404, { error: `no such control: ${req.method} ${path}` });
}

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { EndpointContext } from './context.js';
import { CONTROL_PREFIX, handleControl } from './control-routes.js';
import { EcsApiError, messageOf } from './errors.js';
import { OPERATIONS } from './operations.js';
import { handleMetadata, METADATA_PREFIX } from './task-metadata.js';
import type { EcsFaults, RecordedEcsRequest } from './types.js';

/** ECS's awsJson1.1 service prefix in X-Amz-Target. */
/** The newest requests the endpoint keeps for tests and the control routes. */
const MAX_RECORDED_REQUESTS = 10_000;

export const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';

/** No ECS request comes near this; it only bounds what a stray client can make us buffer. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface EcsServerDeps {
  ctx: EndpointContext;
  faults: EcsFaults;
  requests: RecordedEcsRequest[];
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendAws(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': randomUUID(),
  });
  res.end(JSON.stringify(body));
}

/** One ECS API call: recorded, maybe throttled, then answered by its operation. */
function handleEcs(deps: EcsServerDeps, req: IncomingMessage, raw: string, res: ServerResponse): void {
  const target = req.headers['x-amz-target'];
  const operation =
    typeof target === 'string' && target.startsWith(TARGET_PREFIX)
      ? target.slice(TARGET_PREFIX.length)
      : undefined;
  let body: unknown = raw;
  let isJson = true;
  try {
    body = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    isJson = false;
  }
  deps.requests.push({ operation: operation ?? String(target ?? ''), body, at: new Date() });
  // Bounded: a long-running `npm start` describes its tasks every few seconds.
  if (deps.requests.length > MAX_RECORDED_REQUESTS)
    deps.requests.splice(0, deps.requests.length - MAX_RECORDED_REQUESTS);
  try {
    if (req.method !== 'POST' || operation === undefined) {
      throw new EcsApiError(
        'UnknownOperationException',
        `Expected a POST with X-Amz-Target: ${TARGET_PREFIX}<Operation>, got ${req.method} with ${String(target)}.`,
      );
    }
    // Throttling comes first, as AWS's front door rejects before the service looks at a request.
    if (deps.ctx.faults.takeThrottle(operation))
      throw new EcsApiError('ThrottlingException', 'Rate exceeded');
    const handler = OPERATIONS.get(operation);
    if (!handler) {
      throw new EcsApiError(
        'UnknownOperationException',
        `The local ECS endpoint does not implement ${operation}; it answers ${[...OPERATIONS.keys()].join(', ')}.`,
      );
    }
    if (!isJson) throw new EcsApiError('SerializationException', 'The request body is not valid JSON.');
    sendAws(res, 200, handler(deps.ctx, body));
  } catch (err) {
    if (err instanceof EcsApiError) sendAws(res, err.status, err.toBody());
    else sendAws(res, 500, { __type: 'ServerException', message: messageOf(err) });
  }
}

export function createEcsServer(deps: EcsServerDeps): Server {
  return createServer((req, res) => {
    void (async () => {
      let raw: string;
      try {
        raw = await readBody(req);
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          sendAws(res, 413, { __type: 'SerializationException', message: 'The request body is too large.' });
        } else {
          res.destroy();
        }
        return;
      }
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path.startsWith(CONTROL_PREFIX)) await handleControl(deps, req, path, raw, res);
      else if (path.startsWith(METADATA_PREFIX)) handleMetadata(deps.ctx.store, req.method, path, res);
      else handleEcs(deps, req, raw, res);
    })().catch((err: unknown) => {
      if (!res.headersSent) sendAws(res, 500, { __type: 'ServerException', message: messageOf(err) });
      else res.destroy();
    });
  });
}

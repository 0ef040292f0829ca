import { createWriteStream } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PresignedRequest } from '@deploysphere/contracts';

/** Kept-alive connections: a large site is thousands of PUTs to the same host. */
const agents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: 256 }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: 256 }),
};

/** A presigned request S3 (or the network) failed. `status` is 0 when no response came back. */
export class PresignedRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'PresignedRequestError';
  }
}

/** Where an error may name the object: the URL without its query (the signature). */
function shown(url: string): string {
  const u = new URL(url);
  return `${u.host}${u.pathname}`;
}

function send(
  req: PresignedRequest,
  body: Buffer | Readable | undefined,
  contentLength: number | undefined,
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> {
  const url = new URL(req.url);
  const isHttps = url.protocol === 'https:';
  // Exactly the headers the grant lists (they are signed), plus the length of what is sent.
  const headers: Record<string, string> = { ...req.headers };
  if (contentLength !== undefined) headers['content-length'] = String(contentLength);
  return new Promise((resolve, reject) => {
    const r = (isHttps ? httpsRequest : httpRequest)(
      url,
      { method: req.method, headers, agent: isHttps ? agents.https : agents.http, signal },
      resolve,
    );
    r.on('error', (err) => {
      // A failed request must not leave the file's read stream (and its descriptor) open.
      if (body !== undefined && !Buffer.isBuffer(body)) body.destroy();
      reject(err);
    });
    if (body === undefined) r.end();
    else if (Buffer.isBuffer(body)) r.end(body);
    else {
      body.on('error', (err) => r.destroy(err));
      body.pipe(r);
    }
  });
}

async function drain(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) if (chunks.length < 8) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').slice(0, 500);
}

/** S3's error code from an XML error body, if any. */
function s3Code(body: string): string {
  return /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? '';
}

export interface PutOutcome {
  /** false: If-None-Match refused it because the object is already stored (412). */
  stored: boolean;
}

/**
 * PUTs a body with a presigned grant. A 412 (the object exists and the grant said
 * `If-None-Match: *`) is not an error: the blob is there. Anything else but 2xx throws.
 */
export async function putPresigned(
  req: PresignedRequest,
  body: Buffer | (() => Readable),
  size: number,
  signal?: AbortSignal,
): Promise<PutOutcome> {
  let res: IncomingMessage;
  try {
    res = await send(req, Buffer.isBuffer(body) ? body : body(), size, signal);
  } catch (err) {
    throw new PresignedRequestError(0, `PUT ${shown(req.url)} failed: ${(err as Error).message}`);
  }
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) {
    res.resume();
    return { stored: true };
  }
  const text = await drain(res);
  if (status === 412 && 'if-none-match' in req.headers) return { stored: false };
  throw new PresignedRequestError(
    status,
    `PUT ${shown(req.url)} answered ${status}${s3Code(text) ? ` ${s3Code(text)}` : ''}`,
  );
}

/** GETs a presigned object into a file; returns its size. */
export async function downloadPresigned(
  req: PresignedRequest,
  file: string,
  signal?: AbortSignal,
): Promise<number> {
  let res: IncomingMessage;
  try {
    res = await send(req, undefined, undefined, signal);
  } catch (err) {
    throw new PresignedRequestError(0, `GET ${shown(req.url)} failed: ${(err as Error).message}`);
  }
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    const text = await drain(res);
    throw new PresignedRequestError(
      status,
      `GET ${shown(req.url)} answered ${status}${s3Code(text) ? ` ${s3Code(text)}` : ''}`,
    );
  }
  let size = 0;
  res.on('data', (chunk: Buffer) => (size += chunk.length));
  await pipeline(res, createWriteStream(file));
  return size;
}

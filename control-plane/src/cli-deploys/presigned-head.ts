import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { retryWithBackoff } from '@deploysphere/contracts';

/** Kept-alive connections: finalize checks thousands of blobs against one endpoint. */
const agents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: 128 }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: 128 }),
};

class Retryable extends Error {}

/**
 * Whether a presigned HEAD finds the blob stored with this size. 404 (and 403, which S3 answers
 * for a missing key without list permission) mean not stored; network errors and 5xx are retried.
 */
export function headStored(url: string, size: number): Promise<boolean> {
  return retryWithBackoff(
    () =>
      new Promise<boolean>((resolve, reject) => {
        const u = new URL(url);
        const https = u.protocol === 'https:';
        const req = (https ? httpsRequest : httpRequest)(
          u,
          { method: 'HEAD', agent: https ? agents.https : agents.http },
          (res) => {
            res.resume();
            const status = res.statusCode ?? 0;
            if (status === 200) resolve(Number(res.headers['content-length']) === size);
            else if (status === 404 || status === 403) resolve(false);
            else reject(new Retryable(`HEAD ${u.host}${u.pathname} answered ${status}`));
          },
        );
        req.on('error', (err) => reject(new Retryable(err.message)));
        req.end();
      }),
    { attempts: 3, baseDelayMs: 200, shouldRetry: (err) => err instanceof Retryable },
  );
}

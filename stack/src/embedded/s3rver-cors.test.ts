import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localCorsOrigins, startS3rver, type EmbeddedS3 } from './s3rver.js';

// The dashboard's folder drop PUTs blobs from the browser straight into each region's bucket, so
// the local buckets answer CORS preflights: from the dashboard's origin (any loopback port), for
// PUT with the grant's signed headers; nothing for another site.

let dir: string;
let s3: EmbeddedS3;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3rver-cors-'));
  s3 = await startS3rver({ directory: dir, buckets: ['cors-bucket'] });
});

afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

const preflight = (origin: string, method = 'PUT') =>
  fetch(`${s3.endpoint}/cors-bucket/blobs/abc`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'cache-control,content-type,if-none-match,x-amz-checksum-sha256',
    },
  });

describe("s3rver's buckets and the dashboard's origin", () => {
  it('allow a PUT with the signed headers from the dashboard on any loopback port', async () => {
    for (const origin of ['http://127.0.0.1:41234', 'http://localhost:3000']) {
      const res = await preflight(origin);
      expect(res.status, origin).toBe(200);
      expect(res.headers.get('access-control-allow-methods')).toContain('PUT');
      expect(res.headers.get('access-control-allow-headers')?.split(/,\s*/).sort()).toEqual([
        'cache-control',
        'content-type',
        'if-none-match',
        'x-amz-checksum-sha256',
      ]);
    }
  });

  it('refuse another origin and methods the drop never uses', async () => {
    expect((await preflight('https://evil.example')).status).toBe(403);
    expect((await preflight('http://127.0.0.1:3000', 'DELETE')).status).toBe(403);
  });

  it('name the host when bound to a named address, and any origin when bound to every interface', () => {
    expect(localCorsOrigins('10.1.2.3')).toContain('http://10.1.2.3:*');
    expect(localCorsOrigins('0.0.0.0')).toEqual(['*']);
    expect(localCorsOrigins(undefined)).not.toContain('*');
  });
});

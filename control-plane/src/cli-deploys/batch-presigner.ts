import { createHash, createHmac } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { blobKey, type PresignedRequest, type UploadBlob } from '@deploysphere/contracts';
import { StorageGrants, type GrantBucket } from '../build-sessions/storage-grants.js';

/** A batch's SDK-presigned first PUT, whose query and key are reused for the rest of the batch. */
interface Template {
  method: 'PUT' | 'HEAD';
  url: URL;
  /** Everything before the blob's hash in the path (`/<bucket>/blobs/` or `/blobs/`). */
  pathPrefix: string;
  signedHeaders: string[];
  /** The SDK's PUT headers; each blob changes its content type and checksum. */
  headers: Record<string, string>;
  signingKey: Buffer;
  scope: string;
  amzDate: string;
  madeAt: number;
}

/** The headers StorageGrants signs on a blob PUT; a template with any other is not used. */
const KNOWN_HEADERS = new Set(['cache-control', 'content-type', 'if-none-match', 'x-amz-checksum-sha256']);

/** A template serves this long; the grants it signs expire an hour after it was made. */
const TEMPLATE_TTL_MS = 60_000;

const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s).digest();

/** AWS's URI encoding (RFC 3986 unreserved characters stay). */
function awsEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * StorageGrants whose blob PUTs are signed in bulk: a manifest of thousands of files needs
 * thousands of presigned PUTs, and the SDK's presigner spends about 2 ms on each (the command's
 * middleware and endpoint rules, every time). Here the first PUT of a bucket is presigned by the
 * SDK exactly as StorageGrants does it; its URL gives the endpoint, path style, credential scope,
 * date and signed header list, and the rest are signed with SigV4 directly (same query, another
 * key and headers): the same request S3 would get from the SDK, at a fraction of the cost.
 *
 * The template is checked before it is used: its own signature, recomputed here, must equal the
 * SDK's, or this batch falls back to the SDK for every PUT. So a difference in the algorithm can
 * only cost speed, never produce a grant S3 refuses (s3rver checks no signatures, so no local test
 * could notice one).
 */
export class BatchPresignedGrants extends StorageGrants {
  // Per bucket object: StorageGrants resolves one per region per request, so a batch shares it.
  private readonly templates = new WeakMap<GrantBucket, Template | null>();

  override async blobPut(b: GrantBucket, blob: UploadBlob): Promise<PresignedRequest> {
    const t = this.templates.get(b);
    if (t && Date.now() - t.madeAt < TEMPLATE_TTL_MS) return this.fromTemplate(t, blob);
    const put = await super.blobPut(b, blob);
    const fresh = await this.template(b, 'PUT', put, blob.hash);
    this.templates.set(b, fresh);
    return put;
  }

  /** The template from an SDK-presigned PUT, or null when it cannot be reproduced exactly. */
  private async template(
    b: GrantBucket,
    method: Template['method'],
    put: { url: string; headers: Record<string, string> },
    hash: string,
  ): Promise<Template | null> {
    try {
      const url = new URL(put.url);
      const q = url.searchParams;
      const credential = q.get('X-Amz-Credential') ?? '';
      const [, date, region, service, terminator] = credential.split('/');
      const amzDate = q.get('X-Amz-Date') ?? '';
      if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !date || !region || service !== 's3')
        return null;
      if (terminator !== 'aws4_request' || !url.pathname.endsWith(`blobs/${hash}`)) return null;
      if (!Object.keys(put.headers).every((h) => KNOWN_HEADERS.has(h))) return null;
      const creds = await b.client.config.credentials();
      const signingKey = hmac(
        hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, date), region), service),
        terminator,
      );
      const template: Template = {
        method,
        url,
        pathPrefix: url.pathname.slice(0, -hash.length),
        signedHeaders: (q.get('X-Amz-SignedHeaders') ?? '').split(';'),
        headers: put.headers,
        signingKey,
        scope: `${date}/${region}/${service}/${terminator}`,
        amzDate,
        madeAt: Date.now(),
      };
      // Recompute the SDK's own signature: only an exact match makes the template usable.
      const again = this.sign(template, url.pathname, put.headers);
      return again === q.get('X-Amz-Signature') ? template : null;
    } catch {
      return null;
    }
  }

  private fromTemplate(t: Template, blob: UploadBlob): PresignedRequest {
    const checksum = Buffer.from(blob.hash, 'hex').toString('base64');
    const headers = { ...t.headers, 'content-type': blob.contentType, 'x-amz-checksum-sha256': checksum };
    const path = `${t.pathPrefix}${blob.hash}`;
    const url = new URL(t.url);
    url.pathname = path;
    url.searchParams.set('X-Amz-Signature', this.sign(t, path, headers));
    return { method: 'PUT', url: url.toString(), headers };
  }

  /**
   * Presigned HEADs of these blobs (finalize's presence check), signed as the PUTs are: the SDK
   * signs the first, the rest reuse it. Undefined when the template cannot be reproduced.
   */
  async blobHeads(b: GrantBucket, hashes: readonly string[], expiresIn = 300): Promise<string[] | undefined> {
    const first = hashes[0];
    if (first === undefined) return [];
    const url = await getSignedUrl(
      b.client,
      new HeadObjectCommand({ Bucket: b.bucket, Key: blobKey(first) }),
      {
        expiresIn,
      },
    );
    const t = await this.template(b, 'HEAD', { url, headers: {} }, first);
    if (!t) return undefined;
    return hashes.map((hash, i) => {
      if (i === 0) return url;
      const path = `${t.pathPrefix}${hash}`;
      const u = new URL(t.url);
      u.pathname = path;
      u.searchParams.set('X-Amz-Signature', this.sign(t, path, {}));
      return u.toString();
    });
  }

  /** SigV4 of a presigned request: the template's query (less its signature), this path and headers. */
  private sign(t: Template, path: string, headers: Record<string, string>): string {
    const all: Record<string, string> = { ...headers, host: t.url.host };
    const query = [...t.url.searchParams.entries()]
      .filter(([k]) => k !== 'X-Amz-Signature')
      .map(([k, v]) => [awsEncode(k), awsEncode(v)] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const canonicalHeaders = t.signedHeaders
      .map((h) => `${h}:${(all[h] ?? '').trim().replace(/\s+/g, ' ')}\n`)
      .join('');
    const canonical = [
      t.method,
      path,
      query,
      canonicalHeaders,
      t.signedHeaders.join(';'),
      t.url.searchParams.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
    ].join('\n');
    const toSign = ['AWS4-HMAC-SHA256', t.amzDate, t.scope, sha256Hex(canonical)].join('\n');
    return createHmac('sha256', t.signingKey).update(toSign).digest('hex');
  }
}

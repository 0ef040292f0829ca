import { mkdir } from 'node:fs/promises';
import S3rver from 's3rver';

/** s3rver accepts only this fixed key pair. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface EmbeddedS3 {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * The headers a browser sends with a blob's presigned PUT (the dashboard's folder drop): the
 * grant's signed headers (storage-grants.ts) and what an SDK may add (as infra/aws's bucket rule).
 * Origins come per server.
 */
export const BROWSER_UPLOAD_CORS_HEADERS = [
  'content-type',
  'cache-control',
  'if-none-match',
  'x-amz-checksum-sha256',
  'x-amz-sdk-checksum-algorithm',
] as const;

/**
 * Origins allowed to PUT straight into the local buckets: the dashboard is served by the control
 * plane, whose port is chosen after storage starts, so any port on loopback (and on `host` when
 * it is a named address). Bound to every interface, any origin: s3rver checks no signatures, so
 * whoever reaches it can write anyway, and CORS would only stop the dashboard opened by LAN IP.
 */
export function localCorsOrigins(host: string | undefined): string[] {
  if (host === '0.0.0.0' || host === '::') return ['*'];
  const origins = ['http://127.0.0.1:*', 'http://localhost:*', 'http://[::1]:*'];
  if (host && !['127.0.0.1', 'localhost', '::1'].includes(host)) {
    origins.push(`http://${host.includes(':') ? `[${host}]` : host}:*`);
  }
  return origins;
}

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A bucket CORS configuration (S3's XML, which s3rver reads) for browser PUTs and HEADs. */
export function browserUploadCorsXml(origins: readonly string[]): string {
  const tag = (name: string, values: readonly string[]) =>
    values.map((v) => `<${name}>${xmlText(v)}</${name}>`).join('');
  return (
    '<CORSConfiguration><CORSRule>' +
    tag('AllowedOrigin', origins) +
    tag('AllowedMethod', ['PUT', 'HEAD']) +
    tag('AllowedHeader', BROWSER_UPLOAD_CORS_HEADERS) +
    tag('ExposeHeader', ['ETag']) +
    '<MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule></CORSConfiguration>'
  );
}

/**
 * One S3 API server (s3rver) on a free loopback port, holding `buckets` in `directory`.
 * Used for each region's storage by `npm start` and by tests.
 */
export async function startS3rver(opts: {
  directory: string;
  buckets: string[];
  host?: string;
  port?: number;
  /** Browser origins allowed to PUT blobs with presigned grants; default `localCorsOrigins(host)`. */
  corsOrigins?: readonly string[];
}): Promise<EmbeddedS3> {
  // s3rver does not create its data directory, and fails on first write without it.
  await mkdir(opts.directory, { recursive: true });
  const server = new S3rver({
    address: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    directory: opts.directory,
    silent: true,
    configureBuckets: opts.buckets.map((name) => ({
      name,
      configs: [browserUploadCorsXml(opts.corsOrigins ?? localCorsOrigins(opts.host))],
    })),
  });
  const address = await server.run();
  return {
    endpoint: `http://${address.address}:${address.port}`,
    stop: () => server.close(),
  };
}

import { mkdir } from 'node:fs/promises';
import S3rver from 's3rver';

/** s3rver accepts only this fixed key pair. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface EmbeddedS3 {
  endpoint: string;
  stop(): Promise<void>;
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
}): Promise<EmbeddedS3> {
  // s3rver does not create its data directory, and fails on first write without it.
  await mkdir(opts.directory, { recursive: true });
  const server = new S3rver({
    address: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    directory: opts.directory,
    silent: true,
    configureBuckets: opts.buckets.map((name) => ({ name, configs: [] })),
  });
  const address = await server.run();
  return {
    endpoint: `http://${address.address}:${address.port}`,
    stop: () => server.close(),
  };
}

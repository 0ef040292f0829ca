import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@deploysphere/build-worker/s3-client';
import {
  blobKey,
  manifestKey,
  ManifestSchema,
  type HeaderRule,
  type Manifest,
  type RedirectRule,
} from '@deploysphere/contracts';

export interface SiteFile {
  path: string;
  body: string | Uint8Array;
  contentType?: string;
}

export interface BucketTarget {
  endpoint: string;
  bucket: string;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
  png: 'image/png',
  svg: 'image/svg+xml',
};

export const newDeploymentId = (): string =>
  Array.from(randomBytes(24), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');

export const sha256 = (body: string | Uint8Array): string => createHash('sha256').update(body).digest('hex');

/** Uploads blobs and the manifest of one deployment to every target, the way the build worker does. */
export async function publishDeployment(
  targets: readonly BucketTarget[],
  input: { deploymentId?: string; files: SiteFile[]; redirects?: RedirectRule[]; headers?: HeaderRule[] },
): Promise<Manifest> {
  const deploymentId = input.deploymentId ?? newDeploymentId();
  const files: Manifest['files'] = {};
  const blobs = new Map<string, string | Uint8Array>();
  for (const file of input.files) {
    const hash = sha256(file.body);
    const ext = file.path.slice(file.path.lastIndexOf('.') + 1);
    files[file.path] = {
      hash,
      size: typeof file.body === 'string' ? Buffer.byteLength(file.body) : file.body.byteLength,
      contentType: file.contentType ?? TYPES[ext] ?? 'application/octet-stream',
    };
    blobs.set(hash, file.body);
  }
  const manifest = ManifestSchema.parse({
    v: 1,
    deploymentId,
    createdAt: new Date().toISOString(),
    files,
    redirects: input.redirects ?? [],
    headers: input.headers ?? [],
  });
  for (const target of targets) {
    const s3 = client(target);
    for (const [hash, body] of blobs) {
      await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: blobKey(hash), Body: body }));
    }
    await s3.send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: manifestKey(deploymentId),
        Body: JSON.stringify(manifest),
        ContentType: 'application/json',
      }),
    );
    s3.destroy();
  }
  return manifest;
}

/** Writes an arbitrary object, e.g. a secret the edge must never serve or other bytes under a blob key. */
export async function putObject(target: BucketTarget, key: string, body: string | Uint8Array): Promise<void> {
  const s3 = client(target);
  await s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body }));
  s3.destroy();
}

function client(target: BucketTarget) {
  return createS3Client({
    region: 'us-east-1',
    endpoint: target.endpoint,
    bucket: target.bucket,
    forcePathStyle: true,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
  });
}

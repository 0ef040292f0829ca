import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { Compression } from './cache-archive.js';

/**
 * A build cache lives in the primary region's bucket, beside the blobs:
 *
 *   cache/<project>/<key>/home.tar.<zst|gz>     the package manager's cache and tools (the build's home)
 *   cache/<project>/<key>/caches.tar.<zst|gz>   framework caches
 *   cache/<project>/<key>/modules.tar.<zst|gz>  node_modules, restored only on an exact key match
 *   cache/<project>/<key>/meta.json             written last: a key without it is incomplete
 *   cache/<project>/branches/<sha256(branch)>.json  the branch's newest key
 */
export const CacheMetaSchema = z.object({
  v: z.literal(1),
  key: z.string().regex(/^[0-9a-f]{64}$/),
  compression: z.enum(['zst', 'gz']),
  savedAt: z.iso.datetime(),
  /** Bumped when a build restores it: expiry counts from the last use. */
  usedAt: z.iso.datetime().optional(),
  branch: z.string(),
  homeBytes: z.number().int().nonnegative(),
  /** null: no framework cache existed. */
  cachesBytes: z.number().int().nonnegative().nullable(),
  modulesBytes: z.number().int().nonnegative().nullable(),
  /** node_modules in this many archives ('modules', 'modules-1', …), extracted in parallel. */
  modulesShards: z.number().int().min(1).max(8).default(1),
  /** Checkout-relative paths the caches archive holds under repo/, restored where absent. */
  repoPaths: z.array(z.string()),
  modulePaths: z.array(z.string()),
});
export type CacheMeta = z.infer<typeof CacheMetaSchema>;

const BranchIndexSchema = z.object({
  v: z.literal(1),
  key: z.string().regex(/^[0-9a-f]{64}$/),
  savedAt: z.iso.datetime(),
});

/**
 * 'home': the build's home (package-manager caches and tools); 'caches': framework caches in the
 * checkout; 'modules': node_modules. Apart, so an exact npm hit fetches no package-manager cache.
 */
export type CachePart = 'home' | 'caches' | 'modules' | `modules-${number}`;

export const cachePrefix = (project: string) => `cache/${project}/`;
export const metaKey = (project: string, key: string) => `cache/${project}/${key}/meta.json`;
export const archiveKey = (project: string, key: string, part: CachePart, c: Compression) =>
  `cache/${project}/${key}/${part}.tar.${c}`;
export const branchIndexKey = (project: string, branch: string) =>
  `cache/${project}/branches/${createHash('sha256').update(branch).digest('hex').slice(0, 32)}.json`;

export class CacheStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly project: string,
  ) {}

  private async getJson(key: string): Promise<unknown> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return JSON.parse((await res.Body?.transformToString()) ?? '');
    } catch {
      // missing or unreadable: no cache there
      return null;
    }
  }

  private putJson(key: string, value: unknown) {
    return this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(value),
        ContentType: 'application/json',
      }),
    );
  }

  async meta(key: string): Promise<CacheMeta | null> {
    const parsed = CacheMetaSchema.safeParse(await this.getJson(metaKey(this.project, key)));
    return parsed.success && parsed.data.key === key ? parsed.data : null;
  }

  async branchKey(branch: string): Promise<string | null> {
    const parsed = BranchIndexSchema.safeParse(await this.getJson(branchIndexKey(this.project, branch)));
    return parsed.success ? parsed.data.key : null;
  }

  /** Downloads one archive to a file; returns its size. */
  async download(key: string, part: CachePart, c: Compression, file: string): Promise<number> {
    const res = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: archiveKey(this.project, key, part, c) }),
    );
    if (!res.Body) throw new Error('empty response');
    await pipeline(res.Body as Readable, createWriteStream(file));
    return (await stat(file)).size;
  }

  async upload(key: string, part: CachePart, c: Compression, file: string): Promise<void> {
    const size = (await stat(file)).size;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: archiveKey(this.project, key, part, c),
        Body: createReadStream(file),
        ContentLength: size,
        ContentType: c === 'zst' ? 'application/zstd' : 'application/gzip',
      }),
    );
  }

  /** The meta goes after the archives, the branch index after the meta: readers never see half a cache. */
  async commit(meta: CacheMeta): Promise<void> {
    await this.putJson(metaKey(this.project, meta.key), meta);
    await this.putJson(branchIndexKey(this.project, meta.branch), {
      v: 1,
      key: meta.key,
      savedAt: meta.savedAt,
    });
  }

  async touch(meta: CacheMeta): Promise<void> {
    await this.putJson(metaKey(this.project, meta.key), { ...meta, usedAt: new Date().toISOString() });
  }
}

import type { Db } from '@deploysphere/db';

/** Where a blob may be stored: one region's bucket. */
export interface BlobStore {
  region: string;
  bucket: string;
}

/**
 * What the upload grants ask of the grant ledger (GrantedBlobs). Every blob in a bucket was put
 * there through a grant, so a blob that was never granted is not stored, and asking storage about
 * it (a HEAD each: thousands for a new site) can be skipped.
 */
export interface GrantLedger {
  /** Of `hashes`, the ones `store` may hold: those granted there before (or found by a sweep). */
  mayHold(store: BlobStore, hashes: readonly string[]): Promise<Set<string>>;
  /** Notes grants before they are answered, so no PUT can happen without its row. */
  noteGranted(store: BlobStore, hashes: readonly string[]): Promise<void>;
}

/** One page of a garbage-collection sweep, as the ledger reconciles with it. */
export interface SweptPage {
  /** The page covers the hashes after this one (none: from the start)… */
  after?: string | undefined;
  /** …up to this one, inclusive (none: to the end). */
  upTo?: string | undefined;
  /** The blobs of the range that stay in the bucket. */
  kept: readonly string[];
  /** Rows granted before this are forgotten unless their blob was found: their grants expired. */
  grantedBefore: Date;
}

/**
 * The grant ledger in PostgreSQL (model GrantedBlob, docs/retention.md). A hint that is never the
 * answer: a row whose blob is gone costs a HEAD; a blob without a row (stored before the ledger
 * existed) is granted again, and S3 refuses the copy (`If-None-Match: *`). Either way the grants
 * stay right, and the finalize and the manifest checks stay the guarantee.
 *
 * Hashes compare in byte order (`COLLATE "C"`), the order in which S3 lists keys.
 */
export class GrantedBlobs implements GrantLedger {
  constructor(private readonly db: Db) {}

  async mayHold(store: BlobStore, hashes: readonly string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const rows = await this.db.$queryRaw<{ hash: string }[]>`
      SELECT "hash" FROM "GrantedBlob"
       WHERE "region" = ${store.region} AND "bucket" = ${store.bucket} AND "hash" = ANY(${[...hashes]}::text[])`;
    return new Set(rows.map((r) => r.hash));
  }

  async noteGranted(store: BlobStore, hashes: readonly string[]): Promise<void> {
    if (hashes.length === 0) return;
    // A renewed grant renews its row: the sweep forgets only rows whose every grant has expired.
    await this.db.$executeRaw`
      INSERT INTO "GrantedBlob" ("region", "bucket", "hash", "grantedAt")
      SELECT ${store.region}, ${store.bucket}, h, now() FROM unnest(${[...new Set(hashes)]}::text[]) AS h
      ON CONFLICT ("region", "bucket", "hash") DO UPDATE SET "grantedAt" = EXCLUDED."grantedAt"`;
  }

  /**
   * Makes one swept range of the ledger what the bucket holds: rows for the blobs kept (blobs
   * stored before the ledger existed get theirs here), none for the others whose grants expired
   * (blobs the sweep deleted, grants never used). Rows granted since stay: their upload may
   * still come.
   */
  async reconcile(store: BlobStore, page: SweptPage): Promise<void> {
    const kept = [...page.kept];
    await this.db.$transaction([
      this.db.$executeRaw`
        INSERT INTO "GrantedBlob" ("region", "bucket", "hash")
        SELECT ${store.region}, ${store.bucket}, h FROM unnest(${kept}::text[]) AS h
        ON CONFLICT DO NOTHING`,
      this.db.$executeRaw`
        DELETE FROM "GrantedBlob"
         WHERE "region" = ${store.region} AND "bucket" = ${store.bucket}
           AND "grantedAt" < ${page.grantedBefore}
           AND (${page.after ?? null}::text IS NULL OR "hash" COLLATE "C" > ${page.after ?? null}::text)
           AND (${page.upTo ?? null}::text IS NULL OR "hash" COLLATE "C" <= ${page.upTo ?? null}::text)
           AND NOT ("hash" = ANY(${kept}::text[]))`,
    ]);
  }
}

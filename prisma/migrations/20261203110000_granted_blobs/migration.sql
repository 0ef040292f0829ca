-- The blobs each region's bucket may hold (docs/retention.md, "The grant ledger"): written before
-- an upload grant is answered, reconciled with the bucket by every garbage-collection sweep. A blob
-- with no row here was never uploaded, so the upload grants skip its HEAD. Blobs stored before this
-- table existed get their rows from the next sweep; until then they are re-sent once, and S3
-- refuses the copy (If-None-Match).
CREATE TABLE "GrantedBlob" (
    "region" TEXT NOT NULL,
    "bucket" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "grantedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "GrantedBlob_pkey" PRIMARY KEY ("region", "bucket", "hash")
);

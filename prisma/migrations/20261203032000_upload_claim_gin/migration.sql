-- The sweep asks, per batch of up to 1000 candidate blobs, which are claimed: a GIN index on the
-- claimed hashes lets it find the claims that overlap the batch instead of reading every claim.
-- CreateIndex
CREATE INDEX "UploadClaim_hashes_idx" ON "UploadClaim" USING GIN ("hashes");

-- The bootstrap token's expiry in its own column, so "Deployment_bootstrapTokenHash_idx" serves
-- the token lookup (it held "<hash>.<expiry>" before, which only a scan could match).
-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "bootstrapExpiresAt" TIMESTAMPTZ(3);

-- Tokens issued before this migration are dropped: their worker's exchange fails with 401 and
-- the build ends with that reason, rather than a token being half understood.
UPDATE "Deployment" SET "bootstrapTokenHash" = NULL WHERE "bootstrapTokenHash" LIKE '%.%';

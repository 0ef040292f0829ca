-- A deployment that builds nothing on purpose (watch paths, a skip marker, the ignored build
-- step) is recorded as `skipped`, with its reason. ADD VALUE cannot be used in the transaction
-- that adds it, and nothing here uses it.
ALTER TYPE "DeploymentStatus" ADD VALUE IF NOT EXISTS 'skipped';

ALTER TABLE "Deployment" ADD COLUMN "skipReason" TEXT;

-- The project's ignored build step; null: none.
ALTER TABLE "Project" ADD COLUMN "ignoreCommand" TEXT;

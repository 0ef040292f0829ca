-- Retention settings per project (null: the platform's default), expiry marks on deployments,
-- garbage-collection runs (each also the lease of the control plane running it), and the blobs
-- unfinished builds rely on (docs/retention.md).
-- AlterTable
ALTER TABLE "Project" ADD COLUMN     "retainReadyPerBranch" INTEGER,
ADD COLUMN     "previewMaxAgeDays" INTEGER,
ADD COLUMN     "buildCacheExpiryDays" INTEGER;

-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "expiredAt" TIMESTAMPTZ(3),
ADD COLUMN     "expiredReason" TEXT;

-- CreateTable
CREATE TABLE "GcRun" (
    "id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "dryRun" BOOLEAN NOT NULL,
    "trigger" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "leaseExpiresAt" TIMESTAMPTZ(3) NOT NULL,
    "resumes" INTEGER NOT NULL DEFAULT 0,
    "progress" JSONB NOT NULL,
    "report" JSONB NOT NULL,
    "error" TEXT,
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "GcRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "UploadClaim" (
    "id" BIGSERIAL NOT NULL,
    "deploymentId" TEXT NOT NULL,
    "hashes" TEXT[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UploadClaim_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "GcRun_startedAt_idx" ON "GcRun"("startedAt" DESC);

-- CreateIndex
CREATE INDEX "UploadClaim_deploymentId_idx" ON "UploadClaim"("deploymentId");

-- AlterTable
ALTER TABLE "Project" ALTER COLUMN "installCommand" DROP NOT NULL,
ALTER COLUMN "buildCommand" DROP NOT NULL,
ADD COLUMN     "buildCacheEnabled" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "withoutCache" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "preset" JSONB,
ADD COLUMN     "cache" JSONB,
ADD COLUMN     "cloneBytes" BIGINT,
ADD COLUMN     "runnerKind" TEXT,
ADD COLUMN     "runnerRegion" TEXT,
ADD COLUMN     "runnerTaskArn" TEXT,
ADD COLUMN     "runnerAttempt" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "bootstrapTokenHash" TEXT,
ADD COLUMN     "buildTokenHash" TEXT;

-- CreateIndex
CREATE INDEX "Deployment_bootstrapTokenHash_idx" ON "Deployment"("bootstrapTokenHash");

-- CreateIndex
CREATE INDEX "Deployment_buildTokenHash_idx" ON "Deployment"("buildTokenHash");

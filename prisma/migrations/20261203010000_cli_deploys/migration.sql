-- CLI deploys (docs/cli.md): a deployment records where it came from, and a prebuilt upload's
-- declared manifest is kept between its create and its finalize.
-- CreateEnum
CREATE TYPE "DeploymentSource" AS ENUM ('git', 'cli');

-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "source" "DeploymentSource" NOT NULL DEFAULT 'git';

-- CreateTable
CREATE TABLE "CliDeployManifest" (
    "deploymentId" TEXT NOT NULL,
    "manifest" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CliDeployManifest_pkey" PRIMARY KEY ("deploymentId")
);

-- AddForeignKey
ALTER TABLE "CliDeployManifest" ADD CONSTRAINT "CliDeployManifest_deploymentId_fkey" FOREIGN KEY ("deploymentId") REFERENCES "Deployment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CLI source deploys (docs/cli.md): the archive a deployment builds from, until it is final.
-- CreateTable
CREATE TABLE "CliSourceArchive" (
    "deploymentId" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "files" INTEGER NOT NULL,
    "region" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "uploadedAt" TIMESTAMPTZ(3),
    "deletedAt" TIMESTAMPTZ(3),

    CONSTRAINT "CliSourceArchive_pkey" PRIMARY KEY ("deploymentId")
);

-- AddForeignKey
ALTER TABLE "CliSourceArchive" ADD CONSTRAINT "CliSourceArchive_deploymentId_fkey" FOREIGN KEY ("deploymentId") REFERENCES "Deployment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable
CREATE TABLE "ProjectWatchPaths" (
    "projectId" TEXT NOT NULL,
    "paths" TEXT[],
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ProjectWatchPaths_pkey" PRIMARY KEY ("projectId")
);

-- AddForeignKey
ALTER TABLE "ProjectWatchPaths" ADD CONSTRAINT "ProjectWatchPaths_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

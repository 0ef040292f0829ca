-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "pullRequest" INTEGER;

-- AlterTable
ALTER TABLE "GitWebhook" ADD COLUMN     "apiUrl" TEXT,
ADD COLUMN     "apiTokenCiphertext" TEXT;

-- CreateTable
CREATE TABLE "GitCommitNotice" (
    "deploymentId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "repo" TEXT NOT NULL,
    "sha" TEXT NOT NULL,
    "pullRequest" INTEGER,
    "lastState" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "GitCommitNotice_pkey" PRIMARY KEY ("deploymentId")
);

-- CreateTable
CREATE TABLE "PullRequestComment" (
    "projectId" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "repo" TEXT NOT NULL,
    "pullRequest" INTEGER NOT NULL,
    "commentId" TEXT NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "PullRequestComment_pkey" PRIMARY KEY ("projectId","provider","repo","pullRequest")
);

-- CreateIndex
CREATE INDEX "GitCommitNotice_projectId_idx" ON "GitCommitNotice"("projectId");

-- AddForeignKey
ALTER TABLE "GitCommitNotice" ADD CONSTRAINT "GitCommitNotice_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PullRequestComment" ADD CONSTRAINT "PullRequestComment_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

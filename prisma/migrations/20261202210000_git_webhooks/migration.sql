-- CreateEnum
CREATE TYPE "DeploymentTarget" AS ENUM ('production', 'preview');

-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "target" "DeploymentTarget" NOT NULL DEFAULT 'production',
ADD COLUMN     "branch" TEXT,
ADD COLUMN     "commitMessage" TEXT,
ADD COLUMN     "commitAuthor" TEXT;

-- CreateTable
CREATE TABLE "GitWebhook" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "secretCiphertext" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "rotatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "GitWebhook_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WebhookDelivery" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "deliveryId" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "reason" TEXT,
    "deploymentId" TEXT,
    "branch" TEXT,
    "commitSha" TEXT,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WebhookDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BranchAlias" (
    "hostname" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "branch" TEXT NOT NULL,
    "deploymentId" TEXT,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "BranchAlias_pkey" PRIMARY KEY ("hostname")
);

-- CreateIndex
CREATE INDEX "Deployment_projectId_branch_idx" ON "Deployment"("projectId", "branch");

-- CreateIndex
CREATE UNIQUE INDEX "GitWebhook_projectId_provider_key" ON "GitWebhook"("projectId", "provider");

-- CreateIndex
CREATE INDEX "WebhookDelivery_projectId_receivedAt_idx" ON "WebhookDelivery"("projectId", "receivedAt" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "WebhookDelivery_projectId_provider_deliveryId_key" ON "WebhookDelivery"("projectId", "provider", "deliveryId");

-- CreateIndex
CREATE UNIQUE INDEX "BranchAlias_projectId_branch_key" ON "BranchAlias"("projectId", "branch");

-- AddForeignKey
ALTER TABLE "GitWebhook" ADD CONSTRAINT "GitWebhook_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BranchAlias" ADD CONSTRAINT "BranchAlias_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

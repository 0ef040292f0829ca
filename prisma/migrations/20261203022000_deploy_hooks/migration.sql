-- CreateTable
CREATE TABLE "DeployHook" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "branch" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastTriggeredAt" TIMESTAMPTZ(3),

    CONSTRAINT "DeployHook_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "DeployHook_secretHash_key" ON "DeployHook"("secretHash");

-- CreateIndex
CREATE INDEX "DeployHook_projectId_idx" ON "DeployHook"("projectId");

-- AddForeignKey
ALTER TABLE "DeployHook" ADD CONSTRAINT "DeployHook_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable
CREATE TABLE "GitCredential" (
    "projectId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "username" TEXT,
    "secretCiphertext" TEXT NOT NULL,
    "publicKey" TEXT,
    "knownHosts" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "GitCredential_pkey" PRIMARY KEY ("projectId")
);

-- AddForeignKey
ALTER TABLE "GitCredential" ADD CONSTRAINT "GitCredential_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

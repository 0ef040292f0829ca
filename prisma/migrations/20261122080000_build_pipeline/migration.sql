-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "lastEventSeq" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "totalBytes" BIGINT;

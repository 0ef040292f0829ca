-- AlterTable
ALTER TABLE "Team" ADD COLUMN     "maxProjects" INTEGER;

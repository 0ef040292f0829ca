-- Protected previews (docs/protected-previews.md): a project may require a signed-in team member
-- or a password on its preview hosts (and, with protectionProduction, on production too).
-- AlterTable
ALTER TABLE "Project" ADD COLUMN     "protectionMode" TEXT NOT NULL DEFAULT 'none',
ADD COLUMN     "protectionProduction" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "protectionPasswordHash" TEXT,
ADD COLUMN     "protectionEpoch" INTEGER NOT NULL DEFAULT 0;

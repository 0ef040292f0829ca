-- A CLI deploy's granted blobs not yet found stored, per region (docs/cli.md): rows, so a report
-- of landed blobs removes the verified ones with an indexed DELETE instead of rewriting the
-- deployment's whole pending manifest. Uploads in flight during the upgrade keep no rows; their
-- finalize checks every blob, as before.
CREATE TABLE "CliPendingBlob" (
    "deploymentId" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "size" INTEGER NOT NULL,

    CONSTRAINT "CliPendingBlob_pkey" PRIMARY KEY ("deploymentId", "region", "hash")
);

ALTER TABLE "CliPendingBlob" ADD CONSTRAINT "CliPendingBlob_deploymentId_fkey"
  FOREIGN KEY ("deploymentId") REFERENCES "Deployment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Which control plane follows a build that runs elsewhere (an ECS task), and until when its
-- claim holds without renewal. Another replica adopts the build only once the lease has run out,
-- so N replicas never take each other's live builds (docs/production.md, "Running N control planes").
ALTER TABLE "Deployment" ADD COLUMN "runnerOwner" TEXT;
ALTER TABLE "Deployment" ADD COLUMN "runnerLeaseUntil" TIMESTAMPTZ(3);

-- The adoption query: building deployments on a runner, by lease.
CREATE INDEX "Deployment_building_runner_lease_idx" ON "Deployment" ("runnerKind", "runnerLeaseUntil")
  WHERE "status" = 'building';

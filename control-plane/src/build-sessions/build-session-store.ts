import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '@deploysphere/db';

/** A fresh token: 32 random bytes, base64url. Only its sha256 is ever stored. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Stores a new bootstrap token for a building deployment (replacing an earlier one): its hash and
 * its expiry. Until it is used or expires, the build is waiting for its worker to start (an ECS
 * task can take minutes), so the watchdog judges it by the token, not by heartbeats; the clock
 * for heartbeats starts again now.
 */
export async function storeBootstrapToken(
  db: Db,
  deploymentId: string,
  token: string,
  expiresAtMs: number,
): Promise<boolean> {
  const { count } = await db.deployment.updateMany({
    where: { id: deploymentId, status: 'building' },
    data: {
      bootstrapTokenHash: tokenHash(token),
      bootstrapExpiresAt: new Date(expiresAtMs),
      lastHeartbeatAt: new Date(),
    },
  });
  return count === 1;
}

/**
 * The token's one use, in one statement: clears the bootstrap hash where it matches, has not
 * expired and the deployment is building, and stores the build token's hash. Two exchanges of
 * the same token cannot both succeed. Returns the deployment, or null.
 */
/** The building deployment an unexpired, unused bootstrap token belongs to; nothing is changed. */
export async function pendingBootstrap(
  db: Db,
  token: string,
  nowMs = Date.now(),
): Promise<{ id: string; lastEventSeq: number } | null> {
  return db.deployment.findFirst({
    where: {
      status: 'building',
      bootstrapTokenHash: tokenHash(token),
      bootstrapExpiresAt: { gt: new Date(nowMs) },
    },
    select: { id: true, lastEventSeq: true },
  });
}

export async function redeemBootstrapToken(
  db: Db,
  token: string,
  buildToken: string,
  nowMs = Date.now(),
): Promise<{ id: string; lastEventSeq: number } | null> {
  const rows = await db.$queryRaw<{ id: string; lastEventSeq: number }[]>`
    UPDATE "Deployment"
       SET "bootstrapTokenHash" = NULL, "bootstrapExpiresAt" = NULL,
           "buildTokenHash" = ${tokenHash(buildToken)}, "lastHeartbeatAt" = ${new Date(nowMs)}
     WHERE "status" = 'building'
       AND "bootstrapTokenHash" = ${tokenHash(token)}
       AND "bootstrapExpiresAt" > ${new Date(nowMs)}
    RETURNING "id", "lastEventSeq"`;
  return rows[0] ?? null;
}

/** Whether an unredeemed token belongs to a deployment that is no longer building (409, not 401). */
export async function bootstrapTokenOfFinishedDeployment(db: Db, token: string): Promise<boolean> {
  const d = await db.deployment.findFirst({
    where: { bootstrapTokenHash: tokenHash(token) },
    select: { status: true },
  });
  return d !== null && d.status !== 'building';
}

/** The deployment a build token belongs to. */
export async function deploymentOfBuildToken(
  db: Db,
  buildToken: string,
): Promise<{ id: string; status: string } | null> {
  return db.deployment.findFirst({
    where: { buildTokenHash: tokenHash(buildToken) },
    select: { id: true, status: true },
  });
}

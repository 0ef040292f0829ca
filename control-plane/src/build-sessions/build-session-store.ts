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
 * `Deployment.bootstrapTokenHash` holds `<sha256 hex>.<expiry, ms since the epoch>`: a bootstrap
 * token works once, and only until it expires.
 */
export function bootstrapHashValue(token: string, expiresAtMs: number): string {
  return `${tokenHash(token)}.${expiresAtMs}`;
}

/** Stores a new bootstrap token for a building deployment (replacing an earlier one). */
export async function storeBootstrapToken(
  db: Db,
  deploymentId: string,
  token: string,
  expiresAtMs: number,
): Promise<boolean> {
  const { count } = await db.deployment.updateMany({
    where: { id: deploymentId, status: 'building' },
    data: { bootstrapTokenHash: bootstrapHashValue(token, expiresAtMs) },
  });
  return count === 1;
}

/**
 * The token's one use, in one statement: clears the bootstrap hash where it matches, has not
 * expired and the deployment is building, and stores the build token's hash. Two exchanges of
 * the same token cannot both succeed. Returns the deployment, or null.
 */
export async function redeemBootstrapToken(
  db: Db,
  token: string,
  buildToken: string,
  nowMs = Date.now(),
): Promise<{ id: string; lastEventSeq: number } | null> {
  const rows = await db.$queryRaw<{ id: string; lastEventSeq: number }[]>`
    UPDATE "Deployment"
       SET "bootstrapTokenHash" = NULL, "buildTokenHash" = ${tokenHash(buildToken)}
     WHERE "status" = 'building'
       AND split_part("bootstrapTokenHash", '.', 1) = ${tokenHash(token)}
       AND split_part("bootstrapTokenHash", '.', 2)::bigint > ${BigInt(nowMs)}
    RETURNING "id", "lastEventSeq"`;
  return rows[0] ?? null;
}

/** Whether an unredeemed token belongs to a deployment that is no longer building (409, not 401). */
export async function bootstrapTokenOfFinishedDeployment(db: Db, token: string): Promise<boolean> {
  const d = await db.deployment.findFirst({
    where: { bootstrapTokenHash: { startsWith: `${tokenHash(token)}.` } },
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

import { AppError } from '@deploysphere/contracts';
import type { Db, Prisma } from '@deploysphere/db';

/**
 * Runs `create` only while the team is under its owners' project limit, with the team's row
 * locked, so two creates at once cannot both take the last place.
 */
export async function withRoomForProject<T>(
  db: Db,
  teamId: string,
  create: (tx: Prisma.TransactionClient) => Promise<T>,
): Promise<T> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ maxProjects: number | null }[]>`
      SELECT "maxProjects" FROM "Team" WHERE "id" = ${teamId} FOR UPDATE`;
    const limit = rows[0]?.maxProjects ?? null;
    if (limit !== null && (await tx.project.count({ where: { teamId } })) >= limit) {
      throw new AppError(
        409,
        'limit_reached',
        `team: it already has its limit of ${limit} project${limit === 1 ? '' : 's'}; an owner can raise it`,
        { field: 'team' },
      );
    }
    return create(tx);
  });
}

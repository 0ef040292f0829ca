import type { Db } from '@deploysphere/db';
import type { FastifyBaseLogger } from 'fastify';

/**
 * A claim whose worker has not started this long after its launch began may be taken over when
 * its job comes back: a local worker starts in seconds, and a live claimer acks its job once the
 * worker is launched.
 */
export const TAKEOVER_AFTER_MS = 60_000;

/**
 * Whether this control plane may launch a build another one claimed and never launched. Asked
 * for a job JetStream delivered again (nobody acked it: a dispatcher acks only once the worker is
 * launched) whose deployment is already `building`, and whose worker never exchanged its
 * bootstrap token: its claimer died between the claim and the launch, or is slow. So `wait` until
 * the claim is `afterMs` old. Only local builds: an ECS task may take minutes to start
 * (docs/production.md, "Running N control planes"). The guarded update voids the old bootstrap
 * token, so a worker the claimer did launch can no longer start, and of several control planes
 * asking at once only one gets `taken`.
 */
export async function takeOverUnlaunched(
  db: Db,
  id: string,
  log: Pick<FastifyBaseLogger, 'warn'>,
  afterMs = TAKEOVER_AFTER_MS,
): Promise<'taken' | 'wait' | 'no'> {
  const d = await db.deployment.findUnique({
    where: { id },
    select: {
      status: true,
      runnerKind: true,
      buildTokenHash: true,
      bootstrapTokenHash: true,
      lastHeartbeatAt: true,
    },
  });
  if (!d || d.status !== 'building' || d.buildTokenHash !== null) return 'no';
  if (d.runnerKind !== null && d.runnerKind !== 'local') return 'no';
  if (d.lastHeartbeatAt && Date.now() - d.lastHeartbeatAt.getTime() < afterMs) return 'wait';
  const { count } = await db.deployment.updateMany({
    where: {
      id,
      status: 'building',
      buildTokenHash: null,
      bootstrapTokenHash: d.bootstrapTokenHash,
      lastHeartbeatAt: d.lastHeartbeatAt,
    },
    data: { bootstrapTokenHash: null, bootstrapExpiresAt: null, lastHeartbeatAt: new Date() },
  });
  if (count === 1) log.warn({ deploymentId: id }, 'took over a build whose claimer never launched it');
  return count === 1 ? 'taken' : 'no';
}

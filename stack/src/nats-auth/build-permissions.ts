import { DeploymentIdSchema, STREAMS, subjects } from '@deploysphere/contracts';
import type { Permissions } from '@nats-io/jwt';

/**
 * Everything one build's NATS user may do, and nothing else (the server denies whatever is not
 * allowed here):
 *
 * - publish its own events and log batches (both JetStream publishes, acked to its inbox);
 * - ask for BUILD_LOGS's stream info, the one JetStream API call the worker makes (it checks the
 *   stream exists before it batches logs); no other API subject, so no stream or consumer can be
 *   read, created or deleted;
 * - subscribe to its own cancel subject and its own inbox prefix, `_INBOX_<id>`, under which the
 *   acks and the stream info reply arrive. The default `_INBOX.>` is not allowed: every client's
 *   replies travel there.
 */
export function buildUserPermissions(deploymentId: string): Permissions {
  // The id becomes a subject token: anything but a deployment id could widen the rights.
  const parsed = DeploymentIdSchema.safeParse(deploymentId);
  if (!parsed.success) throw new Error(`${JSON.stringify(deploymentId)} is not a deployment id`);
  const id = parsed.data;
  return {
    pub: {
      allow: [subjects.buildEvent(id), subjects.buildLog(id), `$JS.API.STREAM.INFO.${STREAMS.buildLogs}`],
    },
    sub: { allow: [subjects.buildCancel(id), `${subjects.buildInboxPrefix(id)}.>`] },
  };
}

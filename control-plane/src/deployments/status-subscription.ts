import {
  deploymentStatusSubject,
  DeploymentStatusEventSchema,
  type DeploymentStatusEvent,
} from '@deploysphere/contracts';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';

/**
 * Follows every deployment's status announcements (StatusPublisher) in a queue group: with several
 * control planes, each announcement reaches one member of the group. Announcements are best
 * effort (core NATS), so a follower that must not miss one also looks at the database itself.
 * A message that is not an announcement is ignored.
 */
export function followStatusChanges(
  nats: NatsConnection,
  queue: string,
  onChange: (event: DeploymentStatusEvent) => void,
): Subscription {
  return nats.subscribe(deploymentStatusSubject('*'), {
    queue,
    callback: (err, msg) => {
      if (err) return;
      let json: unknown;
      try {
        json = JSON.parse(msg.string());
      } catch {
        return;
      }
      const parsed = DeploymentStatusEventSchema.safeParse(json);
      if (parsed.success) onChange(parsed.data);
    },
  });
}

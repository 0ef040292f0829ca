/**
 * Every NATS stream and subject the platform uses, in one place. Subjects embed ids that the
 * schemas above restrict to [a-z0-9-], so they can never contain NATS wildcards or dots.
 */
export const STREAMS = {
  builds: 'BUILDS',
  buildEvents: 'BUILD_EVENTS',
  buildLogs: 'BUILD_LOGS',
} as const;

export const subjects = {
  /**
   * Work queue: a subject tree per region, consumed by that region's dispatcher. The deployment
   * id is the last token so the reconciler can ask the stream whether a job is still there.
   */
  buildJob: (region: string, deploymentId: string) => `builds.jobs.${region}.${deploymentId}`,
  buildJobsForRegion: (region: string) => `builds.jobs.${region}.>`,
  buildJobsAll: 'builds.jobs.>',
  buildEvent: (deploymentId: string) => `builds.events.${deploymentId}`,
  buildEventsAll: 'builds.events.>',
  buildLog: (deploymentId: string) => `builds.logs.${deploymentId}`,
  buildLogsAll: 'builds.logs.>',
  /** Core NATS (not persisted): asks the runner holding a build to stop it. */
  buildCancel: (deploymentId: string) => `builds.cancel.${deploymentId}`,
  /**
   * The build worker's inbox prefix (its replies, such as JetStream acks, arrive under it). One
   * per deployment, so a build's credentials can allow exactly its own inbox (docs/nats-auth.md).
   */
  buildInboxPrefix: (deploymentId: string) => `_INBOX_${deploymentId}`,
} as const;

/** Core NATS (not persisted): the control plane announces each deployment status change here. */
export const deploymentStatusSubject = (deploymentId: string) => `deployments.status.${deploymentId}`;

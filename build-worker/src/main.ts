#!/usr/bin/env node
/**
 * The build worker's command line: what a LocalRunner spawns and what an ECS task runs.
 * Its environment holds DEPLOYMENT_ID, NATS_URL, CONTROL_PLANE_URL, a one-time BOOTSTRAP_TOKEN and
 * static settings (docs/build-worker.md); the token is exchanged for the spec, the build's NATS
 * user and its build token before anything else runs. Exit codes: 0 uploaded, 1 build failed,
 * 2 bad configuration, 3 cancelled, 4 the events could not be delivered (or the bootstrap failed),
 * 128 + the signal when SIGTERM or SIGINT interrupted it (no outcome reported: the runner knows why).
 */
import { constants } from 'node:os';
import { connect, credsAuthenticator, errors, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { ConfigError, STREAMS, subjects, type BootstrapResponse } from '@deploysphere/contracts';
import { WorkerInterrupted } from './build-error.js';
import { runBuild } from './build.js';
import { loadWorkerConfig, type WorkerConfig } from './config.js';
import {
  ControlPlaneGrants,
  ControlPlaneRefusal,
  exchangeBootstrapToken,
} from './grants/control-plane-client.js';
import { JetStreamEventSink, listenForCancel, NdjsonEventSink, type EventSink } from './events.js';
import { LogPublisher, jetStreamLogTransport } from './log-publisher.js';
import { ConsoleLogSink, TeeLogSink, type LogSink } from './log-sink.js';
import { MaskingLogSink, secretsFromEnv } from './secret-masker.js';
import { ResourceReportingSink, TaskResourceSampler } from './task-resources.js';

async function main(): Promise<number> {
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // Parsed: the token leaves our environment before anything else, so no child inherits it.
  delete process.env.BOOTSTRAP_TOKEN;

  // Before any user code: the token's one use.
  let session: BootstrapResponse;
  try {
    session = await exchangeBootstrapToken(config.controlPlaneUrl, config.bootstrapToken);
  } catch (err) {
    const why =
      err instanceof ControlPlaneRefusal
        ? err.message
        : `the control plane could not be reached: ${(err as Error).message}`;
    process.stderr.write(`build worker: the bootstrap failed: ${why}\n`);
    return 4;
  }
  const { spec } = session;
  if (spec.deploymentId !== config.deploymentId) {
    process.stderr.write('build worker: the bootstrap answered another deployment than DEPLOYMENT_ID\n');
    return 4;
  }

  const controller = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => controller.abort(new WorkerInterrupted(signal)));
  }

  let nc: NatsConnection | undefined;
  let events: EventSink;
  let stopCancel = () => {};
  if (config.natsUrl) {
    nc = await connectAsBuild(config, session.natsCredentials);
    events = new JetStreamEventSink(nc);
    stopCancel = listenForCancel(nc, spec.deploymentId, () =>
      controller.abort(new Error('cancel requested')),
    );
  } else {
    events = new NdjsonEventSink(process.stdout);
  }
  // On ECS only the task itself can read what it used (locally the runner measures it).
  const resources = config.taskMetadataUri ? new TaskResourceSampler(config.taskMetadataUri) : undefined;
  if (resources) events = new ResourceReportingSink(events, resources);

  const publisher =
    nc && (await logStreamExists(nc))
      ? new LogPublisher(jetStreamLogTransport(nc), { deploymentId: spec.deploymentId })
      : undefined;
  const consoleSink: LogSink = new ConsoleLogSink(process.stderr);
  // One masking pass in front of every sink: the project's env values never leave the worker,
  // whether they come from the user's commands or from our own system lines.
  const logs = new MaskingLogSink(
    secretsFromEnv(spec.env),
    publisher ? new TeeLogSink(consoleSink, publisher) : consoleSink,
  );

  try {
    const result = await runBuild(spec, {
      settings: config.settings,
      events,
      logs,
      signal: controller.signal,
      grants: new ControlPlaneGrants(
        config.controlPlaneUrl,
        spec.deploymentId,
        session.buildToken,
        controller.signal,
      ),
      firstEventSeq: session.firstEventSeq,
    });
    // The deployment is already reported uploaded; the build cache's save finishes before exit.
    if (result.status === 'uploaded') await result.cacheSave;
    if (result.status === 'interrupted') return 128 + constants.signals[result.signal];
    // A skipped build (the ignored build step exited 0) succeeded at what it was asked.
    return result.status === 'uploaded' || result.status === 'skipped'
      ? 0
      : result.status === 'cancelled'
        ? 3
        : 1;
  } finally {
    logs.flushHeld();
    // Every line is stored (or given up on) before the process exits.
    const published = await publisher?.close();
    if (published && !published.delivered) {
      process.stderr.write(
        `build worker: some log lines could not be published (last seq ${published.lastSeq})\n`,
      );
    }
    stopCancel();
    resources?.stop();
    if (nc) await nc.drain().catch(() => undefined);
  }
}

/**
 * Connects as this build's own NATS user, which may publish only this deployment's events and
 * logs and receive only its cancel subject and its own inbox prefix (docs/nats-auth.md).
 * Reconnects for as long as the build runs: a restarted nats-server must not cost its logs.
 */
async function connectAsBuild(config: WorkerConfig, credentials: string): Promise<NatsConnection> {
  const id = config.deploymentId;
  try {
    return await connect({
      servers: config.natsUrl,
      name: `build-worker-${id}`,
      authenticator: credsAuthenticator(new TextEncoder().encode(credentials)),
      inboxPrefix: subjects.buildInboxPrefix(id),
      ...(config.natsTlsCaFile ? { tls: { caFile: config.natsTlsCaFile } } : {}),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
  } catch (err) {
    if (err instanceof errors.AuthorizationError || err instanceof errors.UserAuthenticationExpiredError) {
      throw new Error(`NATS refused this build's credentials: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/**
 * The control plane creates BUILD_LOGS. Without it every publish would be retried until the
 * give-up window passes, so the worker says so once and keeps its logs on stderr only.
 */
async function logStreamExists(nc: NatsConnection): Promise<boolean> {
  try {
    // checkAPI: false skips $JS.API.INFO, which the build's user may not call.
    await (await jetstreamManager(nc, { checkAPI: false })).streams.info(STREAMS.buildLogs);
    return true;
  } catch (err) {
    const missing = err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
    if (!missing) return true; // transient: try anyway
    process.stderr.write(
      `build worker: stream ${STREAMS.buildLogs} does not exist; build logs go to stderr only\n`,
    );
    return false;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `build worker crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(4);
  },
);

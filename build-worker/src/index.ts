export { runBuild, type BuildResult, type RunBuildOptions } from './build.js';
export { BuildError, type BuildErrorKind } from './build-error.js';
export {
  DEFAULT_BUILD_SETTINGS,
  loadWorkerConfig,
  parseBuildSpecJson,
  type BuildSettings,
  type WorkerConfig,
} from './config.js';
export {
  BuildReporter,
  JetStreamEventSink,
  listenForCancel,
  MemoryEventSink,
  NdjsonEventSink,
  type BuildEventInput,
  type EventSink,
} from './events.js';
export { cloneRepo, validateGitRef } from './git.js';
export {
  CollectingLogSink,
  ConsoleLogSink,
  TeeLogSink,
  type LogLine,
  type LogSink,
  type LogStream,
} from './log-sink.js';
export { OUTPUT_DIR_CANDIDATES } from './output-dir.js';
export { findBwrap } from './sandbox.js';
export { parseHeaders, parseRedirects } from './site-rules.js';
export { createS3Client } from './s3-client.js';
export {
  jetStreamLogTransport,
  LogPublisher,
  type LogBatchTransport,
  type LogPublisherOptions,
  type LogPublisherResult,
} from './log-publisher.js';
export { MaskingLogSink, SecretMasker, secretsFromEnv, SECRET_MASK } from './secret-masker.js';

import { z } from 'zod';
import { DeploymentPhaseSchema, DeploymentStatusSchema } from './build.js';
import { DeploymentIdSchema, SlugSchema } from './ids.js';

/**
 * Build logs: what the build worker publishes on `builds.logs.<deploymentId>` (BUILD_LOGS), what
 * the control plane stores in ClickHouse, streams over a websocket and answers from search.
 */

export const LogStreamSchema = z.enum(['stdout', 'stderr', 'system']);
export type LogStreamName = z.infer<typeof LogStreamSchema>;

/** Longer output is split into several lines, so one line can never exhaust a consumer's memory. */
export const LOG_LINE_MAX_CHARS = 8192;

/** One line as it travels inside a batch: the deployment id is on the batch. */
export const LogEntrySchema = z.object({
  /** Gapless from 1 within a deployment: lets every consumer drop replays and spot gaps. */
  seq: z.number().int().positive(),
  ts: z.iso.datetime(),
  stream: LogStreamSchema,
  message: z.string().max(LOG_LINE_MAX_CHARS),
});
export type LogEntry = z.infer<typeof LogEntrySchema>;

export const LogLineSchema = LogEntrySchema.extend({ deploymentId: DeploymentIdSchema });
export type LogLine = z.infer<typeof LogLineSchema>;

/**
 * One JetStream message: consecutive lines of one deployment. `Nats-Msg-Id` is
 * `<deploymentId>:<first seq>` (or `<deploymentId>:end` for the end marker), so a retried publish is
 * stored once. `end` is set on the last message the worker sends and says how many lines there
 * are in total, so a live viewer knows when it has seen everything.
 */
export const LogBatchSchema = z.object({
  v: z.literal(1),
  deploymentId: DeploymentIdSchema,
  lines: z.array(LogEntrySchema).max(10_000),
  end: z.object({ lastSeq: z.number().int().nonnegative() }).optional(),
});
export type LogBatch = z.infer<typeof LogBatchSchema>;

/** `Nats-Msg-Id` of a batch: stable across retries of the same batch. */
export function logBatchMsgId(deploymentId: string, firstSeq: number | 'end'): string {
  return `${deploymentId}:${firstSeq}`;
}

/** Server → client messages of `WS /api/v1/deployments/:id/logs/stream`. */
export const LogStreamMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('log'),
    seq: z.number().int().positive(),
    ts: z.iso.datetime(),
    stream: LogStreamSchema,
    message: z.string(),
  }),
  z.object({
    type: z.literal('status'),
    status: DeploymentStatusSchema,
    phase: DeploymentPhaseSchema.nullable(),
    error: z.string().nullable(),
    at: z.iso.datetime(),
  }),
  /** Every line up to `lastSeq` was sent and the deployment reached a terminal status; the socket closes next. */
  z.object({
    type: z.literal('end'),
    lastSeq: z.number().int().nonnegative(),
    status: DeploymentStatusSchema,
  }),
  /** The server gives up on this client (e.g. `slow_consumer`); the socket closes next. */
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type LogStreamMessage = z.infer<typeof LogStreamMessageSchema>;

/** Websocket close codes the log stream uses besides 1000 (done) and 1011 (server error). */
/** Websocket close codes of the live log stream. 1013 ("try again later") means: reconnect. */
export const LOG_STREAM_CLOSE = { slowConsumer: 4008, shuttingDown: 1001, interrupted: 1013 } as const;

/** Query strings are strings: this turns `?after=10` into a number and says what was expected. */
export const queryInt = (min: number, max: number) =>
  z.coerce
    .number({ error: 'expected an integer' })
    .int('expected an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const SearchTextSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine((s) => !s.includes('\0'), 'must not contain NUL');

/** `?after=<seq>` on the live stream: only lines with a greater seq are sent. */
export const LogStreamQuerySchema = z.object({
  after: queryInt(0, Number.MAX_SAFE_INTEGER).default(0),
});

export const DEPLOYMENT_LOGS_MAX_LIMIT = 5000;

/** `GET /api/v1/deployments/:id/logs?after=&limit=&q=&stream=` */
export const DeploymentLogsQuerySchema = z.object({
  after: queryInt(0, Number.MAX_SAFE_INTEGER).default(0),
  limit: queryInt(1, DEPLOYMENT_LOGS_MAX_LIMIT).default(1000),
  /** Case-insensitive substring. */
  q: SearchTextSchema.optional(),
  stream: LogStreamSchema.optional(),
});
export type DeploymentLogsQuery = z.infer<typeof DeploymentLogsQuerySchema>;

export const DeploymentLogsResponseSchema = z.object({
  lines: z.array(LogEntrySchema),
  /** Pass as `after` to continue: the last returned seq, or the given `after` when nothing matched. */
  nextAfter: z.number().int().nonnegative(),
});
export type DeploymentLogsResponse = z.infer<typeof DeploymentLogsResponseSchema>;

export const LOG_SEARCH_MAX_LIMIT = 1000;

/** `GET /api/v1/logs/search?q=&project=&since=&limit=`: newest matches first. */
export const LogSearchQuerySchema = z.object({
  q: SearchTextSchema,
  project: SlugSchema.optional(),
  since: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time' }).optional(),
  limit: queryInt(1, LOG_SEARCH_MAX_LIMIT).default(100),
});
export type LogSearchQuery = z.infer<typeof LogSearchQuerySchema>;

export const LogSearchResponseSchema = z.object({
  lines: z.array(LogLineSchema.extend({ projectSlug: z.string().nullable() })),
});
export type LogSearchResponse = z.infer<typeof LogSearchResponseSchema>;

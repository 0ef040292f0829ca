import { DeliverPolicy, jetstream, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  deploymentStatusSubject,
  DeploymentStatusEventSchema,
  LOG_STREAM_CLOSE,
  LogBatchSchema,
  STREAMS,
  subjects,
  TERMINAL_STATUSES,
  type DeploymentStatus,
  type DeploymentStatusEvent,
  type LogEntry,
  type LogStreamMessage,
} from '@deploysphere/contracts';
import type { LogStore } from './log-store.js';

/** The slice of a websocket the hub needs (the `ws` package's WebSocket fits). */
export interface ViewerSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'close', listener: () => void): unknown;
}

export interface LogHubOptions {
  /** Lines each deployment's channel keeps for viewers that join late or fall back. */
  ringLines?: number;
  /** A live viewer whose unsent bytes pass this is dropped as a slow consumer. */
  maxBufferedBytes?: number;
  /** Lines per ClickHouse page while a viewer catches up. */
  replayPageLines?: number;
  /** After a terminal status, how long the channel waits without lines when the end marker is missing. */
  endGraceMs?: number;
  /** How long a catching-up viewer may wait for the ingester to commit lines it needs. */
  replayWaitMs?: number;
  /** Where the hub reports a failure no viewer caused (a live consumer that died). */
  onError?: (message: string, err: unknown) => void;
}

const OPEN = 1;
const REPLAY_CHUNK_LINES = 500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function statusMessage(e: DeploymentStatusEvent): LogStreamMessage {
  return { type: 'status', status: e.status, phase: e.phase, error: e.error, at: e.at };
}

function logMessage(l: LogEntry): string {
  const msg: LogStreamMessage = { type: 'log', seq: l.seq, ts: l.ts, stream: l.stream, message: l.message };
  return JSON.stringify(msg);
}

class Viewer {
  /** The last seq sent. */
  cursor: number;
  live = false;
  done = false;

  constructor(
    readonly socket: ViewerSocket,
    after: number,
  ) {
    this.cursor = after;
  }

  get open(): boolean {
    return !this.done && this.socket.readyState === OPEN;
  }

  send(msg: LogStreamMessage): void {
    if (this.open) this.socket.send(JSON.stringify(msg));
  }

  finish(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.live = false;
    if (this.socket.readyState !== OPEN) return;
    this.socket.close(code, reason);
    // A client that never answers the close handshake must not hold its buffers.
    setTimeout(() => this.socket.terminate(), 5000).unref();
  }
}

/**
 * One deployment's live logs, shared by all its viewers: one ordered JetStream consumer on
 * `builds.logs.<id>` (from the stream's start) and one core subscription to its status. Lines are
 * put in seq order (a retried batch can be stored after later ones) and the most recent
 * `ringLines` are kept, so memory per deployment is bounded whatever the build prints.
 */
class Channel {
  readonly viewers = new Set<Viewer>();
  private ring: LogEntry[] = [];
  private ringStart = 0;
  /** The next seq in order; everything below it was received. */
  nextSeq = 1;
  private readonly outOfOrder = new Map<number, LogEntry>();
  private endLastSeq: number | undefined;
  terminal: DeploymentStatus | undefined;
  /** Set once the deployment is terminal and every line up to it is known. */
  ended: { lastSeq: number; status: DeploymentStatus } | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private messages: ConsumerMessages | undefined;
  private statusSub: Subscription | undefined;
  private closed = false;

  constructor(
    readonly deploymentId: string,
    private readonly hub: LogHub,
  ) {}

  async start(): Promise<void> {
    this.statusSub = this.hub.nats.subscribe(deploymentStatusSubject(this.deploymentId), {
      callback: (err, msg) => {
        if (err) return;
        const parsed = DeploymentStatusEventSchema.safeParse(safeJson(msg.data));
        if (parsed.success) this.onStatus(parsed.data);
      },
    });
    const consumer = await jetstream(this.hub.nats).consumers.get(STREAMS.buildLogs, {
      // A single subject (not a list): nats-server 2.9 only knows `filter_subject`.
      filter_subjects: subjects.buildLog(this.deploymentId),
      deliver_policy: DeliverPolicy.All,
    });
    if (this.closed) return;
    // A stream that is gone ends the iteration rather than waiting, silently, for it to return.
    this.messages = await consumer.consume({ max_messages: 100, abort_on_missing_resource: true });
    // The iteration only ends on close(); ending otherwise (the stream or the connection went
    // away) would leave every viewer on a channel that never speaks again.
    void (async () => {
      for await (const msg of this.messages!) {
        const parsed = LogBatchSchema.safeParse(safeJson(msg.data));
        if (parsed.success) this.onBatch(parsed.data.lines, parsed.data.end?.lastSeq);
      }
    })().then(
      () => this.closed || this.hub.channelFailed(this, new Error('the live log consumer stopped')),
      (err: unknown) => this.closed || this.hub.channelFailed(this, err),
    );
  }

  get ringFirstSeq(): number | undefined {
    return this.ring[this.ringStart]?.seq;
  }

  /** Ring lines with seq > after, or undefined when the ring no longer reaches back that far. */
  linesAfter(after: number): LogEntry[] | undefined {
    const first = this.ringFirstSeq;
    if (first === undefined) return after + 1 >= this.nextSeq ? [] : undefined;
    if (first > after + 1) return undefined;
    return this.ring.slice(this.ringStart + (after + 1 - first));
  }

  onStatus(event: DeploymentStatusEvent): void {
    for (const v of this.viewers) v.send(statusMessage(event));
    if (TERMINAL_STATUSES.has(event.status)) this.markTerminal(event.status);
  }

  markTerminal(status: DeploymentStatus): void {
    if (this.terminal) return;
    this.terminal = status;
    this.checkEnded();
  }

  private onBatch(lines: LogEntry[], endLastSeq: number | undefined): void {
    if (endLastSeq !== undefined) this.endLastSeq = endLastSeq;
    const fresh: LogEntry[] = [];
    for (const line of lines) {
      if (line.seq < this.nextSeq) continue; // a replayed duplicate
      if (line.seq > this.nextSeq) {
        this.outOfOrder.set(line.seq, line);
        continue;
      }
      fresh.push(line);
      this.nextSeq++;
      for (let next = this.outOfOrder.get(this.nextSeq); next; next = this.outOfOrder.get(this.nextSeq)) {
        this.outOfOrder.delete(this.nextSeq);
        fresh.push(next);
        this.nextSeq++;
      }
    }
    if (fresh.length > 0) {
      this.ring.push(...fresh);
      const excess = this.ring.length - this.ringStart - this.hub.ringLines;
      if (excess > 0) this.ringStart += excess;
      // Compact now and then, so dropping old lines costs O(1) amortized.
      if (this.ringStart > this.hub.ringLines) {
        this.ring = this.ring.slice(this.ringStart);
        this.ringStart = 0;
      }
      for (const v of this.viewers) if (v.live) this.hub.deliver(v, fresh);
    }
    this.checkEnded();
  }

  private checkEnded(): void {
    if (!this.terminal || this.ended || this.closed) return;
    const lastSeen = this.nextSeq - 1;
    if (this.endLastSeq !== undefined && lastSeen >= this.endLastSeq) {
      this.end(this.endLastSeq);
      return;
    }
    // No end marker (a worker that crashed, or logs long gone from the stream): end once no line
    // has arrived for a while, with whatever ClickHouse holds beyond what we saw.
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = setTimeout(() => {
      void this.hub.store
        .maxSeq(this.deploymentId)
        .catch(() => 0)
        .then((stored) => this.end(Math.max(stored, this.nextSeq - 1, this.endLastSeq ?? 0)));
    }, this.hub.endGraceMs);
  }

  private end(lastSeq: number): void {
    if (this.ended || this.closed) return;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.ended = { lastSeq, status: this.terminal! };
    for (const v of this.viewers) if (v.live) this.hub.continueViewer(this, v);
  }

  close(): void {
    this.closed = true;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.statusSub?.unsubscribe();
    void this.messages?.close().catch(() => undefined);
  }
}

/**
 * Fans build logs out to websocket viewers. A viewer first gets the lines after its `after` (from
 * the channel's ring, else from ClickHouse page by page, waiting for each page to drain), then goes
 * live on the shared channel. It ends with `{type:"end"}` once the deployment is terminal and
 * every line up to the last seq was sent. A live viewer that cannot keep up is dropped.
 */
export class LogHub {
  readonly ringLines: number;
  readonly maxBufferedBytes: number;
  readonly endGraceMs: number;
  private readonly onError: (message: string, err: unknown) => void;
  private readonly replayPageLines: number;
  private readonly replayWaitMs: number;
  private readonly channels = new Map<string, Channel>();
  private closed = false;
  /** Viewers dropped for being slow, for metrics and tests. */
  slowDrops = 0;

  constructor(
    readonly nats: NatsConnection,
    readonly store: LogStore,
    opts: LogHubOptions = {},
  ) {
    this.ringLines = opts.ringLines ?? 20_000;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.replayPageLines = opts.replayPageLines ?? 2000;
    this.endGraceMs = opts.endGraceMs ?? 2000;
    this.replayWaitMs = opts.replayWaitMs ?? 15_000;
    this.onError = opts.onError ?? ((message, err) => process.stderr.write(`${message}: ${String(err)}\n`));
  }

  get viewerCount(): number {
    let n = 0;
    for (const c of this.channels.values()) n += c.viewers.size;
    return n;
  }

  /**
   * Serves one websocket. `current` is the deployment's status read when the viewer connected;
   * later changes arrive on the status subject.
   */
  async attach(
    deploymentId: string,
    socket: ViewerSocket,
    opts: { after: number; current: DeploymentStatusEvent },
  ): Promise<void> {
    const viewer = new Viewer(socket, opts.after);
    if (this.closed) {
      viewer.finish(LOG_STREAM_CLOSE.shuttingDown, 'server shutting down');
      return;
    }
    let channel = this.channels.get(deploymentId);
    if (!channel) {
      channel = new Channel(deploymentId, this);
      this.channels.set(deploymentId, channel);
      const started = channel;
      await channel.start().catch((err: unknown) => {
        this.channels.delete(deploymentId);
        started.close();
        throw err;
      });
    }
    channel.viewers.add(viewer);
    const ch = channel;
    socket.on('close', () => {
      viewer.done = true;
      ch.viewers.delete(viewer);
      if (ch.viewers.size === 0 && this.channels.get(deploymentId) === ch) {
        this.channels.delete(deploymentId);
        ch.close();
      }
    });
    viewer.send(statusMessage(opts.current));
    if (TERMINAL_STATUSES.has(opts.current.status)) channel.markTerminal(opts.current.status);
    this.continueViewer(channel, viewer);
  }

  /** Sends live lines; a viewer whose socket backs up past the limit is dropped with a reason. */
  deliver(viewer: Viewer, lines: LogEntry[], live = true): void {
    for (const line of lines) {
      if (!viewer.open) return;
      if (line.seq <= viewer.cursor) continue;
      viewer.socket.send(logMessage(line));
      viewer.cursor = line.seq;
    }
    // While catching up we pace ourselves (drained()); live lines come as fast as the build prints.
    if (live && viewer.open && viewer.socket.bufferedAmount > this.maxBufferedBytes) {
      this.slowDrops++;
      viewer.send({
        type: 'error',
        code: 'slow_consumer',
        message: 'The client did not read the log stream fast enough; reconnect with ?after=<last seq>',
      });
      viewer.finish(LOG_STREAM_CLOSE.slowConsumer, 'slow consumer');
    }
  }

  /**
   * A channel's consumer died under it: its viewers are told and closed with "try again later",
   * so they reconnect with `?after=` to a fresh channel, and the failure is reported.
   */
  channelFailed(channel: Channel, err: unknown): void {
    this.onError(`live logs of ${channel.deploymentId} stopped; closing its viewers`, err);
    if (this.channels.get(channel.deploymentId) === channel) this.channels.delete(channel.deploymentId);
    for (const v of channel.viewers) {
      v.send({
        type: 'error',
        code: 'unavailable',
        message: 'The live log stream was interrupted; reconnect with ?after=<last seq> to resume',
      });
      v.finish(LOG_STREAM_CLOSE.interrupted, 'log stream interrupted');
    }
    channel.close();
  }

  /** Moves a viewer forward: end, live on the channel, or one more replay step. */
  continueViewer(channel: Channel, viewer: Viewer): void {
    viewer.live = false;
    void this.catchUp(channel, viewer).catch((err: unknown) => {
      viewer.send({ type: 'error', code: 'internal', message: 'The log stream failed' });
      viewer.finish(1011, 'internal error');
      this.onError(`log stream ${channel.deploymentId} failed`, err);
    });
  }

  private async catchUp(channel: Channel, viewer: Viewer): Promise<void> {
    let waitedSince: number | undefined;
    while (viewer.open) {
      const ended = channel.ended;
      if (ended && viewer.cursor >= ended.lastSeq) {
        viewer.send({ type: 'end', lastSeq: ended.lastSeq, status: ended.status });
        viewer.finish(1000, 'build finished');
        return;
      }
      const fromRing = channel.linesAfter(viewer.cursor);
      if (fromRing !== undefined && !(ended && fromRing.length === 0)) {
        // At most one chunk per turn, so a late viewer cannot pile the whole ring into its buffer.
        this.deliver(viewer, fromRing.slice(0, REPLAY_CHUNK_LINES), false);
        if (!viewer.open) return;
        if (fromRing.length > REPLAY_CHUNK_LINES) {
          await this.drained(viewer);
          continue;
        }
        if (ended) continue;
        // The last chunk went out in this same tick as going live: no line can slip between.
        viewer.live = true;
        return;
      }
      // Older than the ring (or past what the stream still holds): ClickHouse, in pages.
      const page = await this.store.deploymentLines(channel.deploymentId, {
        after: viewer.cursor,
        limit: this.replayPageLines,
      });
      const contiguous: LogEntry[] = [];
      for (const line of page) {
        if (line.seq !== viewer.cursor + contiguous.length + 1) break;
        contiguous.push(line);
      }
      if (contiguous.length > 0) {
        waitedSince = undefined;
        this.deliver(viewer, contiguous, false);
        await this.drained(viewer);
        continue;
      }
      // The next line is neither in the ring nor committed yet: the ingester is behind.
      waitedSince ??= Date.now();
      if (Date.now() - waitedSince > this.replayWaitMs) {
        viewer.send({
          type: 'error',
          code: 'replay_unavailable',
          message: `Line ${viewer.cursor + 1} is not available yet; reconnect with ?after=${viewer.cursor}`,
        });
        viewer.finish(1011, 'replay unavailable');
        return;
      }
      await sleep(100);
    }
  }

  /** Waits until the socket has sent what we gave it; a client that stops reading is dropped. */
  private async drained(viewer: Viewer): Promise<void> {
    const since = Date.now();
    while (viewer.open && viewer.socket.bufferedAmount > this.maxBufferedBytes / 4) {
      if (Date.now() - since > 30_000) {
        this.slowDrops++;
        viewer.send({ type: 'error', code: 'slow_consumer', message: 'The client stopped reading' });
        viewer.finish(LOG_STREAM_CLOSE.slowConsumer, 'slow consumer');
        return;
      }
      await sleep(5);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const channel of this.channels.values()) {
      for (const v of channel.viewers) v.finish(LOG_STREAM_CLOSE.shuttingDown, 'server shutting down');
      channel.close();
    }
    this.channels.clear();
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}

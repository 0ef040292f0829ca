/** Where build output goes: the user's commands (stdout/stderr) and the worker's own notes (system). */
export type LogStream = 'stdout' | 'stderr' | 'system';

export interface LogSink {
  write(stream: LogStream, line: string): void;
}

export interface LogLine {
  stream: LogStream;
  line: string;
}

/** Keeps every line in memory: for tests and for a runner that ships logs after the fact. */
export class CollectingLogSink implements LogSink {
  readonly lines: LogLine[] = [];

  write(stream: LogStream, line: string): void {
    this.lines.push({ stream, line });
  }

  text(): string {
    return this.lines.map((l) => l.line).join('\n');
  }
}

/** Writes lines to the worker's own stderr, prefixed by stream, so stdout stays free for events. */
export class ConsoleLogSink implements LogSink {
  constructor(private readonly out: NodeJS.WritableStream = process.stderr) {}

  write(stream: LogStream, line: string): void {
    this.out.write(`[${stream}] ${line}\n`);
  }
}

/** Fans one line out to several sinks. */
export class TeeLogSink implements LogSink {
  private readonly sinks: LogSink[];

  constructor(...sinks: LogSink[]) {
    this.sinks = sinks;
  }

  write(stream: LogStream, line: string): void {
    for (const sink of this.sinks) sink.write(stream, line);
  }
}

/** The longest line a sink receives; longer output is split so one line cannot exhaust memory. */
export const MAX_LOG_LINE = 8192;

/** Credentials in URLs (`https://user:token@host`) are masked before anything reaches a log. */
export function redactUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, '$1***@');
}

import { CLI_EXIT_CODES } from '@deploysphere/contracts';
import type { CliError } from './errors.js';

export interface OutputOptions {
  json: boolean;
  debug: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/**
 * Where a command's words go. With --json, stdout gets exactly one JSON document on one line
 * (the result, or the error) and everything else goes to stderr. Progress is a redrawn bar on a
 * terminal and plain lines otherwise (CI logs), always on stderr.
 */
export class Output {
  readonly json: boolean;
  readonly debugOn: boolean;
  private readonly out: NodeJS.WritableStream;
  private readonly err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  private barShown = false;
  private lastPlain = new Map<string, number>();

  constructor(opts: OutputOptions) {
    this.json = opts.json;
    this.debugOn = opts.debug;
    this.out = opts.stdout ?? process.stdout;
    this.err = opts.stderr ?? process.stderr;
  }

  get tty(): boolean {
    return this.err.isTTY === true && !this.json;
  }

  /** A human line: stdout normally, stderr with --json (stdout holds only the document). */
  line(text: string): void {
    this.clearBar();
    (this.json ? this.err : this.out).write(`${text}\n`);
  }

  /** A progress or status line: always stderr. */
  info(text: string): void {
    this.clearBar();
    this.err.write(`${text}\n`);
  }

  debug(text: string): void {
    if (this.debugOn) this.info(`debug: ${text}`);
  }

  /**
   * `label done/total`: a bar redrawn in place on a terminal; otherwise a plain line at the start,
   * at most every 10 %, and at the end.
   */
  progress(label: string, done: number, total: number, unit = ''): void {
    const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
    if (this.tty) {
      const width = Math.max(10, Math.min(30, (this.err.columns ?? 80) - label.length - 30));
      const filled = Math.round((pct / 100) * width);
      this.err.write(
        `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}${unit} ${pct}%\x1b[K`,
      );
      this.barShown = true;
      if (done >= total) this.clearBar(true);
      return;
    }
    const step = Math.floor(pct / 10);
    const last = this.lastPlain.get(label);
    if (last === step && done < total) return;
    this.lastPlain.set(label, step);
    this.err.write(`${label}: ${done}/${total}${unit}\n`);
  }

  private clearBar(keep = false): void {
    if (!this.barShown) return;
    this.err.write(keep ? '\n' : '\r\x1b[K');
    this.barShown = false;
  }

  /** The command's result: one JSON line with --json, else the human lines `human` prints. */
  result(value: unknown, human: () => void): void {
    if (this.json) this.out.write(`${JSON.stringify(value)}\n`);
    else human();
  }

  /** The one-line failure (and with --debug its detail); never a stack trace otherwise. */
  failure(err: CliError): void {
    this.clearBar();
    if (this.json) {
      this.out.write(
        `${JSON.stringify({ error: { code: err.code, message: err.message, exitCode: err.exitCode } })}\n`,
      );
    } else {
      this.err.write(`Error: ${err.message}\n`);
    }
    if (this.debugOn && err.detail !== undefined) {
      const d = err.detail;
      this.err.write(
        `debug: ${d instanceof Error ? (d.stack ?? d.message) : typeof d === 'string' ? d : JSON.stringify(d)}\n`,
      );
      if (err.exitCode === CLI_EXIT_CODES.failure && err.stack) this.err.write(`debug: ${err.stack}\n`);
    }
  }
}

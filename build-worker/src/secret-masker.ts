import { LOG_LINE_MAX_CHARS } from '@deploysphere/contracts';
import type { LogSink, LogStream } from './log-sink.js';

export const SECRET_MASK = '********';

/**
 * Values shorter than this are not masked: replacing every `1` or `true` in a log would make it
 * unreadable, and values that short are not secrets worth the name.
 */
export const MIN_MASKED_SECRET_LENGTH = 6;

/**
 * Lines the process reader had to cut (exactly LOG_LINE_MAX_CHARS long) are held back this many
 * times at most while waiting for their continuation; past that the text goes out anyway.
 */
const MAX_HELD_CHARS = 8 * LOG_LINE_MAX_CHARS;

/** Every string worth masking in a project's env: each value, and each line of a multi-line value. */
export function secretsFromEnv(env: Record<string, string>): string[] {
  const found = new Set<string>();
  for (const value of Object.values(env)) {
    for (const part of [value, ...value.split(/\r?\n/)]) {
      const trimmed = part.trim();
      if (trimmed.length >= MIN_MASKED_SECRET_LENGTH) found.add(trimmed);
    }
  }
  return [...found];
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Replaces every secret with SECRET_MASK. Longer secrets are tried first, so a secret that
 * contains another is masked whole.
 */
export class SecretMasker {
  private readonly pattern: RegExp | undefined;
  readonly longest: number;

  constructor(secrets: Iterable<string>) {
    const list = [...new Set(secrets)]
      .filter((s) => s.length >= MIN_MASKED_SECRET_LENGTH)
      .sort((a, b) => b.length - a.length);
    this.longest = list[0]?.length ?? 0;
    this.pattern = list.length > 0 ? new RegExp(list.map(escapeRegExp).join('|'), 'g') : undefined;
  }

  get active(): boolean {
    return this.pattern !== undefined;
  }

  mask(text: string): string {
    return this.pattern ? text.replace(this.pattern, SECRET_MASK) : text;
  }

  /**
   * The largest cut point ≤ `at` that does not fall inside a secret, so masking the two sides
   * separately masks as much as masking the whole.
   */
  safeCut(text: string, at: number): number {
    if (!this.pattern) return at;
    let cut = at;
    for (const m of text.matchAll(this.pattern)) {
      const start = m.index;
      const end = start + m[0].length;
      if (start >= cut) break;
      if (end > cut) cut = start;
    }
    return cut;
  }
}

/**
 * A LogSink that masks secrets before passing lines on, and splits lines longer than
 * LOG_LINE_MAX_CHARS (ANSI escapes are kept: the dashboard renders them).
 *
 * The process reader already cuts endless lines into LOG_LINE_MAX_CHARS pieces, and a secret can
 * straddle such a cut. A piece of exactly that length is therefore held back until the next line
 * of the same stream shows whether it continues; the pieces are joined, masked, and split again.
 */
export class MaskingLogSink implements LogSink {
  private readonly masker: SecretMasker;
  private readonly held = new Map<LogStream, string>();

  constructor(
    secrets: Iterable<string>,
    private readonly inner: LogSink,
  ) {
    this.masker = secrets instanceof SecretMasker ? secrets : new SecretMasker(secrets);
  }

  write(stream: LogStream, line: string): void {
    const before = this.held.get(stream);
    const text = before === undefined ? line : before + line;
    this.held.delete(stream);
    if (this.masker.active && line.length === LOG_LINE_MAX_CHARS) {
      if (text.length < MAX_HELD_CHARS) {
        this.held.set(stream, text);
        return;
      }
      // Too much held: send all but a tail that could still hold the start of a secret.
      const cut = this.masker.safeCut(text, text.length - this.masker.longest + 1);
      this.held.set(stream, text.slice(cut));
      this.emit(stream, text.slice(0, cut));
      return;
    }
    this.emit(stream, text);
  }

  /** Sends whatever is held back (at the end of the build). */
  flushHeld(): void {
    for (const [stream, text] of this.held) {
      this.held.delete(stream);
      this.emit(stream, text);
    }
  }

  private emit(stream: LogStream, text: string): void {
    const masked = this.masker.mask(text);
    if (masked.length <= LOG_LINE_MAX_CHARS) {
      this.inner.write(stream, masked);
      return;
    }
    for (let i = 0; i < masked.length; i += LOG_LINE_MAX_CHARS) {
      this.inner.write(stream, masked.slice(i, i + LOG_LINE_MAX_CHARS));
    }
  }
}

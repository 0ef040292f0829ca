/**
 * Start-up with a deadline of its own, below vitest's hookTimeout (120 s in vitest.config.ts), so
 * a start that hangs fails with what it was still waiting for instead of a bare "Hook timed out",
 * and a start that finishes after the deadline is stopped at once instead of running on, unowned,
 * under the next test file.
 */
export const START_DEADLINE_MS = 100_000;

/** Records which parts of a start finished, and when, for the error a missed deadline gives. */
export class StartProgress {
  private readonly t0 = performance.now();
  private readonly done: string[] = [];

  constructor(private readonly parts: readonly string[]) {}

  /** `part` is up; matches startPlatform's Progress callback. */
  readonly finished = (part: string): void => {
    this.done.push(`${part} at ${this.seconds()} s`);
  };

  private seconds(): string {
    return ((performance.now() - this.t0) / 1000).toFixed(1);
  }

  /** `run`, marking `part` finished when it resolves. */
  async track<T>(part: string, run: PromiseLike<T>): Promise<T> {
    const value = await run;
    this.finished(part);
    return value;
  }

  /** A start that took long is worth knowing about before it turns into a timeout. */
  warnIfSlow(what: string, thresholdMs = 30_000): void {
    if (performance.now() - this.t0 > thresholdMs)
      console.warn(`${what} was slow to start: ${this.describe()}`);
  }

  describe(): string {
    const pending = this.parts.filter((p) => !this.done.some((d) => d.startsWith(`${p} at`)));
    return `up: ${this.done.join(', ') || 'nothing'}; still starting: ${pending.join(', ') || 'nothing'}`;
  }
}

export async function startWithin<T>(
  what: string,
  progress: StartProgress,
  start: Promise<T>,
  stop: (started: T) => Promise<void>,
  deadlineMs = START_DEADLINE_MS,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Whatever the start brings up after all is stopped as soon as it is up.
      start.then(stop, () => undefined).catch(() => undefined);
      reject(new Error(`${what} did not start within ${deadlineMs / 1000} s (${progress.describe()})`));
    }, deadlineMs);
  });
  try {
    return await Promise.race([start, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** How a start fails when a port it picked was bound by someone else first. */
const PORT_TAKEN = /address already in use|EADDRINUSE|could not bind|is already in use on/i;

function messages(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause === undefined ? err.message : `${err.message}\n${messages(err.cause)}`;
}

/**
 * Starts again, once, when the first start lost a port race. Embedded services listen on free
 * ports picked a moment before they bind them (PostgreSQL picks its port before initdb), and a
 * concurrent run on the same machine can take one in between. That fails fast and names the
 * port; a second start on fresh ports is the fix, not a test failure.
 */
export async function retryOnPortRace<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (!PORT_TAKEN.test(messages(err))) throw err;
    return start();
  }
}

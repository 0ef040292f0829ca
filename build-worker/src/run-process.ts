import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { MAX_LOG_LINE } from './log-sink.js';

export interface RunProcessOptions {
  cwd?: string;
  /** The complete environment of the child: nothing of the worker's own env is inherited. */
  env: Record<string, string>;
  signal?: AbortSignal;
  /** Wall-clock limit; the whole process group is killed when it passes. */
  timeoutMs?: number;
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** How many of the last output lines to keep for error messages. */
  tailLines?: number;
  /** Give the child a pipe on fd 3 and collect what it writes there (the sandbox init's status). */
  sideChannel?: boolean;
}

export interface RunProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** The last output lines, both streams interleaved, for error messages. */
  tail: string[];
  /** What the child wrote on fd 3, with sideChannel. */
  sideChannel: string;
}

/**
 * Runs `file` with an argument array (never a shell string) in its own process group, streaming
 * its output line by line. On timeout or abort the whole group gets SIGKILL; after the leader
 * exits, the group is killed too, so nothing it started outlives it.
 */
export function runProcess(file: string, args: string[], opts: RunProcessOptions): Promise<RunProcessResult> {
  const tailSize = opts.tailLines ?? 20;
  const tail: string[] = [];
  let timedOut = false;
  let aborted = false;
  let sideChannel = '';

  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      resolve({ code: null, signal: null, timedOut: false, aborted: true, tail, sideChannel });
      return;
    }
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: opts.sideChannel ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const status = opts.sideChannel ? child.stdio[3] : null;
    if (status && 'on' in status) {
      status.on('data', (chunk: Buffer) => {
        // A few bytes of JSON; anything longer is not the init's.
        if (sideChannel.length < 4096) sideChannel += chunk.toString('utf8');
      });
      status.on('error', () => undefined);
    }

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already gone.
      }
    };

    const emit = (stream: 'stdout' | 'stderr', line: string) => {
      const clean = line.endsWith('\r') ? line.slice(0, -1) : line;
      tail.push(clean);
      if (tail.length > tailSize) tail.shift();
      opts.onLine?.(stream, clean);
    };
    for (const stream of ['stdout', 'stderr'] as const) {
      const decoder = new StringDecoder('utf8');
      let pending = '';
      const readable = child[stream]!;
      readable.on('data', (chunk: Buffer) => {
        pending += decoder.write(chunk);
        let nl: number;
        while ((nl = pending.indexOf('\n')) !== -1) {
          emit(stream, pending.slice(0, nl));
          pending = pending.slice(nl + 1);
        }
        while (pending.length > MAX_LOG_LINE) {
          emit(stream, pending.slice(0, MAX_LOG_LINE));
          pending = pending.slice(MAX_LOG_LINE);
        }
      });
      readable.on('end', () => {
        pending += decoder.end();
        if (pending.length > 0) emit(stream, pending);
        pending = '';
      });
    }

    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(
            () => {
              timedOut = true;
              killGroup();
            },
            Math.max(0, opts.timeoutMs),
          )
        : undefined;
    const onAbort = () => {
      aborted = true;
      killGroup();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('exit', () => {
      // Anything the command left running in its group goes with it.
      killGroup();
    });
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ code, signal, timedOut, aborted, tail, sideChannel });
    });
  });
}

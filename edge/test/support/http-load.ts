import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadOptions {
  /** The edge (or origin) to load; only loopback addresses are accepted. */
  baseUrl: string;
  /** Host header to send; the base URL's host when omitted. */
  host?: string;
  /** More request headers (a cookie, say). */
  headers?: Record<string, string>;
  /** The path of request number `i`. */
  path: (i: number) => string;
  requests: number;
  concurrency: number;
  /** No new request starts after this much time: a stuck server cannot hold a run forever. */
  deadlineMs: number;
  /** A request without a complete answer after this long counts as an error. */
  requestTimeoutMs?: number;
}

export interface LoadResult {
  /** Requests started (fewer than asked only when the deadline passed). */
  sent: number;
  /** Answers per status code; socket errors and timeouts count under their error code. */
  outcomes: Map<string, number>;
  /** Everything that was not a 200. */
  errors: number;
  /** The first few failures, with the start of their bodies, for a readable test message. */
  samples: string[];
  /** Per-request latency of the 200 answers, unsorted. */
  latenciesMs: number[];
  seconds: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const MAX_SAMPLES = 5;

/**
 * Keep-alive load against a local server with a fixed number of requests in flight. It counts
 * every answer instead of stopping at the first failure, so a rare 500 under load shows up as a
 * number. Bounded by `requests` and by `deadlineMs`.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const base = new URL(options.baseUrl);
  if (!LOOPBACK.has(base.hostname)) throw new Error(`load is only sent to loopback, not ${base.hostname}`);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const outcomes = new Map<string, number>();
  const samples: string[] = [];
  const latenciesMs: number[] = [];
  const count = (key: string, sample?: string) => {
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    if (sample !== undefined && samples.length < MAX_SAMPLES) samples.push(sample);
  };
  const started = performance.now();
  const deadline = started + options.deadlineMs;
  let next = 0;

  const one = (i: number) =>
    new Promise<void>((done) => {
      const path = options.path(i);
      const begun = performance.now();
      // A broken response can report both an error and an end: count each request once.
      let settled = false;
      const settle = (key: string, sample?: string) => {
        if (settled) return;
        settled = true;
        count(key, sample);
        done();
      };
      const req = request(
        {
          host: base.hostname,
          port: base.port,
          path,
          agent,
          headers: { ...options.headers, ...(options.host ? { host: options.host } : {}) },
          timeout: options.requestTimeoutMs ?? 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => {
            // Only failures' bodies are kept, and only their start.
            if (res.statusCode !== 200 && chunks.length < 4) chunks.push(chunk);
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status === 200 && !settled) latenciesMs.push(performance.now() - begun);
            if (status === 200) settle('200');
            else
              settle(String(status), `${status} ${path}: ${Buffer.concat(chunks).toString().slice(0, 300)}`);
          });
          res.on('error', (error: NodeJS.ErrnoException) =>
            settle(error.code ?? 'response error', `${path}: ${String(error)}`),
          );
        },
      );
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error('request timed out'), { code: 'TIMEOUT' })),
      );
      req.on('error', (error: NodeJS.ErrnoException) =>
        settle(error.code ?? 'request error', `${path}: ${String(error)}`),
      );
      req.end();
    });

  try {
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < options.requests && performance.now() < deadline) await one(next++);
      }),
    );
  } finally {
    agent.destroy();
  }
  const errors = [...outcomes].reduce((sum, [key, n]) => (key === '200' ? sum : sum + n), 0);
  return {
    sent: next,
    outcomes,
    errors,
    samples,
    latenciesMs,
    seconds: (performance.now() - started) / 1000,
  };
}

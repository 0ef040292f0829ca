import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const START = fileURLToPath(new URL('../src/local/start.ts', import.meta.url));

export interface CliRun {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * Runs `npm start`'s entry point. By default without npm, so signals reach it directly; with
 * `viaNpm`, as `npm start` itself in a process group of its own, as a terminal runs a job.
 */
export function runStart(env: Record<string, string>, opts: { viaNpm?: boolean } = {}): CliRun {
  const [command, args] = opts.viaNpm
    ? ['npm', ['start', '--silent']]
    : [process.execPath, ['--import', 'tsx', START]];
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    detached: opts.viaNpm ?? false,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

export async function waitForOutput(
  run: CliRun,
  pattern: RegExp,
  timeoutMs = 120_000,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = run.stdout().match(pattern);
    if (match) return match;
    if (run.child.exitCode !== null) {
      throw new Error(
        `exited with ${run.child.exitCode} before ${pattern}:\n${run.stdout()}\n${run.stderr()}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${pattern}:\n${run.stdout()}\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every live process below `pid`, read from /proc, so a test can prove none outlives a stop. */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may contain spaces and parentheses; fields resume after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const [child, parent] of parentOf) {
      if (parent === current) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** The pids still running, described by their command line; zombies awaiting a reap count as gone. */
export function alive(pids: number[]): string[] {
  return pids.flatMap((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return [];
      return [`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`];
    } catch {
      return [];
    }
  });
}

/** Children see their parent go a moment after it exits: give them that moment, not more. */
export async function stillAliveAfterGrace(pids: number[], graceMs = 2_000): Promise<string[]> {
  const deadline = Date.now() + graceMs;
  while (alive(pids).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return alive(pids);
}

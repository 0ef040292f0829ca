import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';

export interface TaskProcessExit {
  /** The exit code as Docker reports it: the process's own, or 128 + the signal's number. */
  exitCode: number;
  signal: NodeJS.Signals | null;
}

/** A task's container process: the leader of its own process group. */
export interface TaskProcess {
  readonly pid: number;
  readonly exited: Promise<TaskProcessExit>;
  /** Sends `signal` to the whole process group, so the container's children get it too. */
  signalGroup(signal: NodeJS.Signals): void;
}

export interface TaskProcessSpec {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  logFile: string;
}

export type LaunchResult = { ok: true; process: TaskProcess } | { ok: false; reason: string };

/** How long a container's leftover processes get to disappear after SIGKILL. */
const GROUP_GONE_TIMEOUT_MS = 2000;

/** Whether any process of the group still exists (zombies not yet reaped count too). */
function groupExists(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Waits, up to a deadline, until the group has no process left: SIGKILL is delivered at once
 * but a process takes a moment to die, and a task only counts as STOPPED once its container is
 * gone. Past the deadline (say, an unreaped zombie) it gives up rather than hang.
 */
async function groupGone(pid: number): Promise<void> {
  const deadline = Date.now() + GROUP_GONE_TIMEOUT_MS;
  while (groupExists(pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // A negative pid addresses the process group that `detached` gave the child.
    process.kill(-pid, signal);
  } catch (err) {
    // ESRCH: the group is gone already, which is what we wanted.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Starts a task's container command as a local process: the argv as given (no shell), exactly
 * `env` (nothing of this process's environment), stdout and stderr appended to `logFile`, and
 * `detached` so it leads its own process group and a signal reaches everything it started.
 * Resolves once the process has spawned, or with the reason it could not.
 */
export async function launchTaskProcess(spec: TaskProcessSpec): Promise<LaunchResult> {
  let log;
  try {
    log = await open(spec.logFile, 'a', 0o600);
  } catch (err) {
    return { ok: false, reason: `cannot open the task's log file: ${(err as Error).message}` };
  }
  try {
    const [file, ...args] = spec.argv;
    const child = spawn(file!, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    // Listening for the exit at once: a fast process can be gone a moment after it spawned.
    const exited = new Promise<TaskProcessExit>((resolve) => {
      child.once('exit', (code, signal) => {
        // A container ends with its main process: whatever it left behind in its group goes too,
        // as the kernel does when a PID namespace's init exits.
        const signalNumber = signal ? (osConstants.signals[signal] ?? 0) : 0;
        const exit = { exitCode: code ?? 128 + signalNumber, signal };
        if (child.pid === undefined) return resolve(exit);
        signalGroup(child.pid, 'SIGKILL');
        void groupGone(child.pid).then(() => resolve(exit));
      });
    });
    const spawned = await new Promise<{ ok: true } | { ok: false; reason: string }>((resolve) => {
      child.once('spawn', () => resolve({ ok: true }));
      child.once('error', (err) => resolve({ ok: false, reason: err.message }));
    });
    if (!spawned.ok || child.pid === undefined) {
      return { ok: false, reason: spawned.ok ? 'the process has no pid' : spawned.reason };
    }
    const pid = child.pid;
    // Signals go to the group through process.kill, so a later 'error' could only come from
    // Node's own bookkeeping; without a listener it would crash the endpoint.
    child.on('error', () => undefined);
    return { ok: true, process: { pid, exited, signalGroup: (signal) => signalGroup(pid, signal) } };
  } finally {
    // The child holds its own copy of the descriptor.
    await log.close();
  }
}

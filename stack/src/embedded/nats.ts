import { execFile, spawn } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { stopChild, TailBuffer } from '../child-process.js';
import { freePort } from '../ports.js';

const execFileAsync = promisify(execFile);

export const NATS_INSTALL_COMMAND =
  'apt-get update && apt-get install -y --no-install-recommends nats-server';

export interface EmbeddedNats {
  url: string;
  /** Stops the server; resolves once the process has exited. */
  stop(): Promise<void>;
}

export class NatsServerMissingError extends Error {
  constructor() {
    super(
      'nats-server is not installed, and installing it needs root. Install it with:\n' +
        `  sudo sh -c '${NATS_INSTALL_COMMAND}'\n` +
        'or set NATS_URL to a NATS server with JetStream enabled.',
    );
    this.name = 'NatsServerMissingError';
  }
}

/** Finds nats-server on PATH or in Debian's sbin directories. */
export async function findNatsServer(): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'nats-server');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/**
 * Returns the nats-server binary, installing Debian's package when it is missing and we run as
 * root. Without root it refuses with the exact command to run.
 */
export async function ensureNatsServer(log: (line: string) => void = () => {}): Promise<string> {
  const found = await findNatsServer();
  if (found) return found;
  if (process.getuid?.() !== 0) throw new NatsServerMissingError();
  log('nats-server not found; installing Debian package nats-server');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await execFileAsync('apt-get', ['update', '-qq'], { env });
  await execFileAsync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'nats-server'], { env });
  const installed = await findNatsServer();
  if (!installed) throw new NatsServerMissingError();
  return installed;
}

/**
 * A nats-server child with JetStream, its store in `storeDir`, listening on a free loopback port.
 * Restarting on the same `storeDir` keeps streams, consumers and unacknowledged messages.
 */
export async function startNatsServer(opts: {
  storeDir: string;
  port?: number;
  binary?: string;
  log?: (line: string) => void;
}): Promise<EmbeddedNats> {
  const binary = opts.binary ?? (await ensureNatsServer(opts.log));
  const port = opts.port ?? (await freePort());
  await mkdir(opts.storeDir, { recursive: true });
  const tail = new TailBuffer();
  const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', opts.storeDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail.push(text);
      if (text.includes('Server is ready')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (err) => reject(new Error(`nats-server failed to start: ${err.message}`)));
    child.once('exit', (code) =>
      reject(new Error(`nats-server exited with code ${code} during start-up:\n${tail.toString()}`)),
    );
  });

  return { url: `nats://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

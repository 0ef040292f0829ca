import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { stopChild, TailBuffer } from '../child-process.js';
import { freePort } from '../ports.js';
import { ensurePrograms, findProgram, NATS_SERVER } from '../system-packages.js';

export interface EmbeddedNats {
  url: string;
  /** Stops the server; resolves once the process has exited. */
  stop(): Promise<void>;
}

/** The nats-server binary; installed from Debian's packages when missing and we run as root. */
export async function ensureNatsServer(log?: (line: string) => void): Promise<string> {
  return (await ensurePrograms([NATS_SERVER], log)).get(NATS_SERVER.binary)!;
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
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', opts.storeDir];
  // With setpriv, the kernel stops nats-server if we die without cleaning up (even SIGKILL).
  const setpriv = await findProgram('setpriv');
  const child = setpriv
    ? spawn(setpriv, ['--pdeathsig', 'SIGTERM', '--', binary, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });

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

import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { stopChild, TailBuffer } from '../child-process.js';
import {
  credentialsAuthenticator,
  type BuildCredentialsSigner,
  embeddedNatsServerConfig,
  NatsAuthority,
  type CredentialsText,
} from '../nats-auth/index.js';
import { freePort } from '../ports.js';
import { ensurePrograms, findProgram, NATS_SERVER } from '../system-packages.js';

export interface EmbeddedNats {
  url: string;
  /** The control plane's user (a `.creds` text): every right inside the app account. */
  credentials: CredentialsText;
  /** The seed of the app account's build signing key, as NATS_BUILD_SIGNING_KEY carries it. */
  buildSigningKey: string;
  /** Mints build users, as the control plane does. */
  signer: BuildCredentialsSigner;
  /**
   * Connects to this server, as the control plane unless `credentials` names another user.
   * The one way tests and tools connect, so none of them carries its own copy of the auth setup.
   */
  connect(opts?: Partial<ConnectionOptions> & { credentials?: CredentialsText }): Promise<NatsConnection>;
  /** Stops the server; resolves once the process has exited. */
  stop(): Promise<void>;
}

/** The nats-server binary; installed from Debian's packages when missing and we run as root. */
export async function ensureNatsServer(log?: (line: string) => void): Promise<string> {
  return (await ensurePrograms([NATS_SERVER], log)).get(NATS_SERVER.binary)!;
}

/**
 * A nats-server child with JetStream, its store in `storeDir`, listening on a free loopback port,
 * always in operator mode: no client connects without credentials (docs/nats-auth.md). The keys
 * are generated once and kept in `storeDir/auth/identities.json` (mode 0600), so restarting on
 * the same `storeDir` keeps the same accounts, and with them streams, consumers, unacknowledged
 * messages, and the validity of credentials minted before the restart.
 */
export async function startNatsServer(opts: {
  storeDir: string;
  port?: number;
  binary?: string;
  log?: (line: string) => void;
}): Promise<EmbeddedNats> {
  const binary = opts.binary ?? (await ensureNatsServer(opts.log));
  const port = opts.port ?? (await freePort());
  const host = '127.0.0.1';
  const authDir = join(opts.storeDir, 'auth');
  await mkdir(opts.storeDir, { recursive: true });
  const authority = await NatsAuthority.loadOrCreate(join(authDir, 'identities.json'));
  const configFile = join(authDir, 'nats-server.conf');
  await writeFile(
    configFile,
    embeddedNatsServerConfig({ host, port, storeDir: opts.storeDir, jwts: await authority.accountJwts() }),
    { mode: 0o600 },
  );
  const credentials = await authority.controlPlaneCredentials();

  const tail = new TailBuffer();
  const args = ['-c', configFile];
  // With setpriv, the kernel stops nats-server if we die without cleaning up (even SIGKILL). Its
  // own process group keeps a terminal's Ctrl-C away from it: the platform stops its NATS
  // clients first and the server last, so nothing logs "server shutdown" on the way out.
  const setpriv = await findProgram('setpriv');
  const [file, argv] = setpriv
    ? [setpriv, ['--pdeathsig', 'SIGTERM', '--', binary, ...args]]
    : [binary, args];
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });

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

  const url = `nats://${host}:${port}`;
  return {
    url,
    credentials,
    buildSigningKey: authority.identities.buildSigningKeySeed,
    signer: authority.buildSigner(),
    connect: ({ credentials: as = credentials, ...rest } = {}) =>
      connect({ servers: url, authenticator: credentialsAuthenticator(as), ...rest }),
    stop: () => stopChild(child),
  };
}

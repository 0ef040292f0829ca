import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STREAMS, subjects } from '@deploysphere/contracts';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, errors } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BuildCredentialsSigner,
  credentialsAuthenticator,
  ensureNatsServer,
  freePort,
  parseCredentials,
  stopChild,
  TailBuffer,
} from '../src/index.js';

// The production path: `npm run nats:auth` generates the keys, credentials and TLS files, and a
// real nats-server runs observability/nats.conf with them (minus sync_interval, which Debian's
// 2.9 does not know). The control plane and a build then connect the way production's do.

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(REPO, 'stack/src/nats-auth-cli.ts');

let dir: string;
let out: string;
let cliOutput: string;

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ds-nats-files-'));
  out = join(dir, 'nats-auth');
  const first = await run(['--out', out, '--tls-host', 'localhost', '--tls-host', '127.0.0.1']);
  expect(first.code, first.output).toBe(0);
  cliOutput = first.output;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm run nats:auth', () => {
  it('writes the secrets owner-only and prints none of them', async () => {
    for (const file of [
      'identities.json',
      'control-plane.creds',
      'build-signing-key.nk',
      'tls/ca-key.pem',
      'tls/server-key.pem',
    ]) {
      expect((await stat(join(out, file))).mode & 0o777, file).toBe(0o600);
    }
    expect((await stat(out)).mode & 0o777).toBe(0o700);
    const { seed, jwt } = parseCredentials(await readFile(join(out, 'control-plane.creds'), 'utf8'));
    const signingKey = (await readFile(join(out, 'build-signing-key.nk'), 'utf8')).trim();
    for (const secret of [seed, jwt, signingKey]) expect(cliOutput).not.toContain(secret);
    expect(await readFile(join(out, 'nats-auth.conf'), 'utf8')).not.toMatch(/\bS[OAU][A-Z2-7]{50,}/);
  });

  it('keeps the accounts and the CA when run again', async () => {
    const before = await readFile(join(out, 'identities.json'), 'utf8');
    const ca = await readFile(join(out, 'tls/ca.pem'), 'utf8');
    const again = await run(['--out', out, '--tls-host', 'localhost']);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('kept as it is');
    expect(await readFile(join(out, 'identities.json'), 'utf8')).toBe(before);
    expect(await readFile(join(out, 'tls/ca.pem'), 'utf8')).toBe(ca);
  });

  it("runs observability/nats.conf with TLS: the control plane's and a build's users connect, nobody else", async () => {
    const port = await freePort();
    // The compose file mounts these at /etc/nats and /data; here they live in the temp dir.
    const conf = (await readFile(join(REPO, 'observability/nats.conf'), 'utf8'))
      .replace(/^\s*sync_interval:.*$/m, '')
      .replaceAll('/etc/nats/', `${out}/`)
      .replace('store_dir: /data', `store_dir: ${JSON.stringify(join(dir, 'data'))}`);
    await writeFile(join(out, 'nats.conf'), conf);
    const binary = await ensureNatsServer();
    const args = [
      '-c',
      join(out, 'nats.conf'),
      '-a',
      '127.0.0.1',
      '-p',
      String(port),
      '-m',
      String(await freePort()),
    ];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = new TailBuffer();
    try {
      await new Promise<void>((resolve, reject) => {
        const onData = (c: Buffer) => {
          tail.push(c.toString());
          if (tail.toString().includes('Server is ready')) resolve();
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) =>
          reject(new Error(`nats-server exited with ${code}:\n${tail.toString()}`)),
        );
      });
      const url = `tls://localhost:${port}`;
      const tls = { caFile: join(out, 'tls/ca.pem') };
      const credentials = await readFile(join(out, 'control-plane.creds'), 'utf8');

      const cp = await connect({ servers: url, tls, authenticator: credentialsAuthenticator(credentials) });
      try {
        expect(cp.info?.tls_required).toBe(true);
        const jsm = await jetstreamManager(cp);
        await jsm.streams.add({ name: STREAMS.buildEvents, subjects: [subjects.buildEventsAll] });

        // The control plane mints build users with the signing key it is given, as in production.
        const signer = BuildCredentialsSigner.forControlPlane(
          credentials,
          (await readFile(join(out, 'build-signing-key.nk'), 'utf8')).trim(),
        );
        const id = 'b'.repeat(24);
        const build = await connect({
          servers: url,
          tls,
          authenticator: credentialsAuthenticator(await signer.mintBuildCredentials(id, 60_000)),
          inboxPrefix: subjects.buildInboxPrefix(id),
        });
        const ack = await jetstream(build).publish(subjects.buildEvent(id), '{}');
        expect(ack.stream).toBe(STREAMS.buildEvents);
        await build.close();

        const refusal = (opts: Parameters<typeof connect>[0]) =>
          connect({ servers: url, reconnect: false, ...opts }).then(
            (nc) => nc.close(),
            (e: unknown) => e,
          );
        // No credentials: refused. No trust in the private CA: the TLS handshake fails.
        expect(await refusal({ tls })).toBeInstanceOf(errors.AuthorizationError);
        expect(await refusal({ authenticator: credentialsAuthenticator(credentials) })).toMatchObject({
          code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
        });
      } finally {
        await cp.close();
      }
    } finally {
      await stopChild(child);
    }
  });
});

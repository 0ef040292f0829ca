import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findProgram } from '../system-packages.js';

const execFileAsync = promisify(execFile);

/** The TLS files `npm run nats:auth -- --tls-host …` writes, inside its `tls/` directory. */
export const NATS_TLS_FILES = {
  /** The private CA's certificate: what clients trust (NATS_TLS_CA_FILE). Public. */
  ca: 'ca.pem',
  /** The CA's key (mode 0600): only needed to issue the next server certificate. */
  caKey: 'ca-key.pem',
  serverCert: 'server-cert.pem',
  /** The server's key (mode 0600). */
  serverKey: 'server-key.pem',
} as const;

/**
 * A private CA and a server certificate for `hosts` (DNS names or IPs), made with the openssl
 * CLI, since Node cannot issue X.509 certificates. ECDSA P-256, valid 825 days, the longest
 * that clients which cap server certificates accept. Returns the paths, by name.
 */
export async function writeNatsTlsFiles(
  dir: string,
  hosts: string[],
): Promise<Record<keyof typeof NATS_TLS_FILES, string>> {
  if (hosts.length === 0) throw new Error('a server certificate needs at least one host name');
  const openssl = await findProgram('openssl');
  if (!openssl)
    throw new Error('openssl is not installed (apt-get install -y --no-install-recommends openssl)');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = (name: keyof typeof NATS_TLS_FILES) => join(dir, NATS_TLS_FILES[name]);
  const run = (...args: string[]) => execFileAsync(openssl, args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const csr = join(dir, 'server.csr');
  const ext = join(dir, 'server.ext');

  await run(
    'req',
    '-x509',
    ...ec,
    '-days',
    '825',
    '-subj',
    '/CN=DeploySphere NATS CA',
    '-keyout',
    path('caKey'),
    '-out',
    path('ca'),
  );
  await run('req', ...ec, '-subj', `/CN=${hosts[0]}`, '-keyout', path('serverKey'), '-out', csr);
  const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  await writeFile(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  await run(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    path('ca'),
    '-CAkey',
    path('caKey'),
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '825',
    '-extfile',
    ext,
    '-out',
    path('serverCert'),
  );
  await rm(csr);
  await rm(ext);
  for (const key of [path('caKey'), path('serverKey')]) await chmod(key, 0o600);
  return {
    ca: path('ca'),
    caKey: path('caKey'),
    serverCert: path('serverCert'),
    serverKey: path('serverKey'),
  };
}

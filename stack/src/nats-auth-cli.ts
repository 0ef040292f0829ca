/**
 * `npm run nats:auth -- [--out DIR] [--tls-host NAME ...]`: generates the operator, system
 * account, app account and build signing keys, and writes what a production nats-server and
 * control plane need (docs/nats-auth.md). With --tls-host, also a private CA and a server
 * certificate for those names. Prints paths, never a secret.
 */
import { access } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeNatsAuthFiles } from './nats-auth/nats-auth-files.js';
import { NATS_TLS_FILES, writeNatsTlsFiles } from './nats-auth/tls-files.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'nats-auth' },
    'tls-host': { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('Usage: npm run nats:auth -- [--out DIR] [--tls-host NAME ...]   (default DIR: ./nats-auth)');
  process.exit(0);
}

const outDir = resolve(values.out);
const shown = (p: string) => relative(process.cwd(), p) || '.';
const written = await writeNatsAuthFiles(outDir);
const lines = [
  `NATS auth files in ${shown(outDir)}:`,
  `  ${shown(written.serverConfig).padEnd(42)} include it in the server config (observability/nats.conf does)`,
  `  ${shown(written.controlPlaneCreds).padEnd(42)} the control plane's user: NATS_CREDS_FILE`,
  `  ${shown(written.buildSigningKey).padEnd(42)} mints build users: its content is NATS_BUILD_SIGNING_KEY`,
  `  ${shown(written.identities).padEnd(42)} every seed: keep it offline; a rerun reuses these accounts`,
];

const hosts = values['tls-host'] ?? [];
if (hosts.length > 0) {
  const tlsDir = join(outDir, 'tls');
  const exists = await access(join(tlsDir, NATS_TLS_FILES.serverCert)).then(
    () => true,
    () => false,
  );
  if (exists) {
    // A new CA would strand every client that trusts the old one: rotating is a deliberate act.
    lines.push(`  ${shown(tlsDir).padEnd(42)} kept as it is (remove it to issue a new CA and certificate)`);
  } else {
    const tls = await writeNatsTlsFiles(tlsDir, hosts);
    lines.push(
      `  ${shown(tls.ca).padEnd(42)} the CA clients trust: NATS_TLS_CA_FILE`,
      `  ${shown(tls.serverCert).padEnd(42)} the server's certificate for ${hosts.join(', ')}, key beside it`,
    );
  }
}
console.log(lines.join('\n'));

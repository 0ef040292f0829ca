import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NatsAuthority } from './nats-authority.js';
import { natsAuthConfig } from './server-config.js';

/** What `npm run nats:auth` writes, by name inside its output directory. */
export const NATS_AUTH_FILES = {
  /** Every seed (mode 0600). Only this generator needs it: keep it offline, and back it up. */
  identities: 'identities.json',
  /** Operator JWT, system account, MEMORY resolver with preloaded accounts; public. */
  serverConfig: 'nats-auth.conf',
  /** The control plane's user, for NATS_CREDS_FILE (mode 0600). */
  controlPlaneCreds: 'control-plane.creds',
  /** The build signing key's seed, for NATS_BUILD_SIGNING_KEY (mode 0600). */
  buildSigningKey: 'build-signing-key.nk',
} as const;

/**
 * Writes a production NATS auth setup into `outDir`. The identities are generated on the first
 * run and reused after, so running it again re-issues the config and the control plane's
 * credentials for the same accounts (earlier credentials stay valid). Returns the paths written.
 */
export async function writeNatsAuthFiles(
  outDir: string,
): Promise<Record<keyof typeof NATS_AUTH_FILES, string>> {
  // Owner-only when made here; an existing directory keeps its mode, every secret is 0600 anyway.
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const path = (name: keyof typeof NATS_AUTH_FILES) => join(outDir, NATS_AUTH_FILES[name]);
  const authority = await NatsAuthority.loadOrCreate(path('identities'));
  await writeFile(path('serverConfig'), natsAuthConfig(await authority.accountJwts()), { mode: 0o644 });
  await writeSecret(path('controlPlaneCreds'), await authority.controlPlaneCredentials());
  await writeSecret(path('buildSigningKey'), `${authority.identities.buildSigningKeySeed}\n`);
  return {
    identities: path('identities'),
    serverConfig: path('serverConfig'),
    controlPlaneCreds: path('controlPlaneCreds'),
    buildSigningKey: path('buildSigningKey'),
  };
}

async function writeSecret(file: string, content: string): Promise<void> {
  await writeFile(file, content, { mode: 0o600 });
  // writeFile's mode applies only when it creates the file: an existing one keeps its own.
  await chmod(file, 0o600);
}

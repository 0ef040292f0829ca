import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createAccount, createOperator, fromSeed, NKeysError } from '@nats-io/nkeys';

/**
 * The keys behind NATS's decentralised JWT auth. Every one is an nkey seed: a secret. The
 * operator signs the accounts; the system account carries the server's own traffic; the app
 * account holds every DeploySphere stream and subject; the build signing key is one of the app
 * account's signing keys, the only key the control plane needs to mint build users.
 */
export interface NatsIdentities {
  operatorSeed: string;
  systemAccountSeed: string;
  appAccountSeed: string;
  buildSigningKeySeed: string;
}

/** What each seed must be: nkey seeds start with S and then the role's prefix letter. */
const ROLES: Record<keyof NatsIdentities, 'O' | 'A'> = {
  operatorSeed: 'O',
  systemAccountSeed: 'A',
  appAccountSeed: 'A',
  buildSigningKeySeed: 'A',
};

export function generateNatsIdentities(): NatsIdentities {
  const seed = (kp: { getSeed(): Uint8Array }) => new TextDecoder().decode(kp.getSeed());
  return {
    operatorSeed: seed(createOperator()),
    systemAccountSeed: seed(createAccount()),
    appAccountSeed: seed(createAccount()),
    buildSigningKeySeed: seed(createAccount()),
  };
}

/** True when `seed` is a valid nkey seed of that role ('O' operator, 'A' account). */
export function isSeedOf(seed: string, role: 'O' | 'A'): boolean {
  try {
    return fromSeed(new TextEncoder().encode(seed)).getPublicKey().startsWith(role);
  } catch (err) {
    if (err instanceof NKeysError) return false;
    throw err;
  }
}

/**
 * The identities kept in `file` (mode 0600), generated on first use. The
 * same keys on every start keep the same account, and JetStream stores each account's streams
 * under its public key: new keys would orphan every stream and queued job.
 */
export async function loadOrCreateNatsIdentities(file: string): Promise<NatsIdentities> {
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined) return parseIdentities(text, file);

  const identities = generateNatsIdentities();
  // A directory made here is owner-only; one that exists already keeps its mode (it may be the
  // operator's own folder), and the file itself is 0600 either way.
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Written aside and renamed, so a crash mid-write never leaves a half file to be read later.
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(identities, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await rename(tmp, file);
  return identities;
}

function parseIdentities(text: string, file: string): NatsIdentities {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file}: expected the NATS identities as JSON; move it away to generate new ones`);
  }
  const bad = (Object.keys(ROLES) as (keyof NatsIdentities)[]).filter((k) => {
    const v = (json as Record<string, unknown> | null)?.[k];
    return typeof v !== 'string' || !isSeedOf(v, ROLES[k]);
  });
  if (bad.length > 0) {
    // Names the fields only: the values are secrets.
    throw new Error(`${file}: ${bad.join(', ')} missing or not a valid nkey seed`);
  }
  const ids = json as NatsIdentities;
  return {
    operatorSeed: ids.operatorSeed,
    systemAccountSeed: ids.systemAccountSeed,
    appAccountSeed: ids.appAccountSeed,
    buildSigningKeySeed: ids.buildSigningKeySeed,
  };
}

import { encodeAccount, encodeOperator, type OperatorLimits } from '@nats-io/jwt';
import { fromSeed } from '@nats-io/nkeys';
import type { NatsIdentities } from './nats-identities.js';

/** An account as the server's resolver knows it: its public key and its JWT. */
export interface NatsAccount {
  publicKey: string;
  jwt: string;
}

/** The public half of the identities: what a server config carries. Nothing here is secret. */
export interface NatsAccountJwts {
  operator: string;
  systemAccount: NatsAccount;
  appAccount: NatsAccount;
}

/** The name the app account carries in its JWT and in the server's logs. */
export const APP_ACCOUNT_NAME = 'DEPLOYSPHERE';

// encodeAccount sets no default limits, and 0 means none allowed: the server then answers every
// connection with "maximum account active connections exceeded". -1 is unlimited.
const UNLIMITED: OperatorLimits = {
  conn: -1,
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  leaf: -1,
  wildcards: true,
};

// JetStream is on for an account only when its storage limits are non-zero. Per-stream byte
// limits and max_ack_pending stay 0, which the server reads as "no limit".
const JETSTREAM_UNLIMITED: OperatorLimits = {
  mem_storage: -1,
  disk_storage: -1,
  streams: -1,
  consumer: -1,
};

export const publicKeyOf = (seed: string) => fromSeed(new TextEncoder().encode(seed)).getPublicKey();

/**
 * Signs the operator and account JWTs. The app account lists the build signing key, so users it
 * signs belong to the app account; each user JWT then carries its own permissions.
 */
export async function encodeAccountJwts(ids: NatsIdentities): Promise<NatsAccountJwts> {
  const systemAccount = publicKeyOf(ids.systemAccountSeed);
  const appAccount = publicKeyOf(ids.appAccountSeed);
  const operator = await encodeOperator('deploysphere', ids.operatorSeed, { system_account: systemAccount });
  const sysJwt = await encodeAccount(
    'SYS',
    publicKeyOf(ids.systemAccountSeed),
    { limits: UNLIMITED },
    {
      signer: ids.operatorSeed,
    },
  );
  const appJwt = await encodeAccount(
    APP_ACCOUNT_NAME,
    appAccount,
    {
      limits: { ...UNLIMITED, ...JETSTREAM_UNLIMITED },
      signing_keys: [publicKeyOf(ids.buildSigningKeySeed)],
    },
    { signer: ids.operatorSeed },
  );
  return {
    operator,
    systemAccount: { publicKey: systemAccount, jwt: sysJwt },
    appAccount: { publicKey: appAccount, jwt: appJwt },
  };
}

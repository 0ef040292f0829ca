import { encodeUser } from '@nats-io/jwt';
import { createUser } from '@nats-io/nkeys';
import { encodeAccountJwts, publicKeyOf, type NatsAccountJwts } from './account-jwts.js';
import { BuildCredentialsSigner } from './build-credentials.js';
import { formatCredentials, type CredentialsText } from './credentials.js';
import {
  generateNatsIdentities,
  loadOrCreateNatsIdentities,
  type NatsIdentities,
} from './nats-identities.js';

/**
 * Holds every key of a DeploySphere NATS setup: it signs the operator and account JWTs a server
 * config preloads, the control plane's user, and (through its build signer) each build's user.
 * The embedded server and `npm run nats:auth` use it; a production control plane never holds
 * one, only its own credentials and the build signing key.
 */
export class NatsAuthority {
  private constructor(readonly identities: NatsIdentities) {}

  static generate(): NatsAuthority {
    return new NatsAuthority(generateNatsIdentities());
  }

  /** The identities kept in `file` (mode 0600), generated on first use. */
  static async loadOrCreate(file: string): Promise<NatsAuthority> {
    return new NatsAuthority(await loadOrCreateNatsIdentities(file));
  }

  get appAccount(): string {
    return publicKeyOf(this.identities.appAccountSeed);
  }

  accountJwts(): Promise<NatsAccountJwts> {
    return encodeAccountJwts(this.identities);
  }

  /**
   * A fresh user for the control plane, signed by the app account's own key, with no permission
   * limits inside the account (it creates the streams and consumers, queues jobs, cancels builds,
   * announces status) and no expiry. Every call mints another user; all stay valid while the
   * account key is the same.
   */
  async controlPlaneCredentials(): Promise<CredentialsText> {
    const user = createUser();
    const jwt = await encodeUser('control-plane', user, this.identities.appAccountSeed);
    return formatCredentials(jwt, new TextDecoder().decode(user.getSeed()));
  }

  buildSigner(): BuildCredentialsSigner {
    return new BuildCredentialsSigner({
      account: this.appAccount,
      signingKeySeed: this.identities.buildSigningKeySeed,
    });
  }
}

import { encodeUser } from '@nats-io/jwt';
import { createUser, fromPublic, NKeysError } from '@nats-io/nkeys';
import { publicKeyOf } from './account-jwts.js';
import { buildUserPermissions } from './build-permissions.js';
import { accountOfCredentials, formatCredentials, type CredentialsText } from './credentials.js';
import { isSeedOf } from './nats-identities.js';

/**
 * Mints one NATS user per build: signed by the app account's build signing key, allowed only
 * its own deployment's subjects (see buildUserPermissions), and expiring after `ttlMs`. The
 * control plane holds the signing key (NATS_BUILD_SIGNING_KEY), so this runs in production as
 * well as under `npm start` and in the tests.
 */
export class BuildCredentialsSigner {
  readonly account: string;
  private readonly signingKeySeed: string;

  constructor(opts: { account: string; signingKeySeed: string }) {
    if (!isSeedOf(opts.signingKeySeed, 'A'))
      throw new Error('the build signing key is not an account nkey seed');
    if (!isAccountPublicKey(opts.account)) throw new Error(`${opts.account} is not an account public key`);
    this.account = opts.account;
    this.signingKeySeed = opts.signingKeySeed;
  }

  /** The account is the control plane's own: its credentials say which one it is. */
  static forControlPlane(controlPlaneCredentials: CredentialsText, signingKeySeed: string) {
    return new BuildCredentialsSigner({
      account: accountOfCredentials(controlPlaneCredentials),
      signingKeySeed,
    });
  }

  /** The signing key's public half, as the account JWT must list it. */
  get signingKey(): string {
    return publicKeyOf(this.signingKeySeed);
  }

  /**
   * A `.creds` text for one build. `ttlMs` should be the build's time limit plus a margin; the
   * server closes the connection when it passes. (A negative `ttlMs` mints an expired user.)
   */
  async mintBuildCredentials(deploymentId: string, ttlMs: number): Promise<CredentialsText> {
    const user = createUser();
    const seed = new TextDecoder().decode(user.getSeed());
    const jwt = await encodeUser(
      `build-${deploymentId}`,
      user,
      this.account,
      buildUserPermissions(deploymentId),
      { signer: this.signingKeySeed, exp: Math.floor((Date.now() + ttlMs) / 1000) },
    );
    return formatCredentials(jwt, seed);
  }
}

function isAccountPublicKey(key: string): boolean {
  try {
    return key.startsWith('A') && fromPublic(key).getPublicKey() === key;
  } catch (err) {
    if (err instanceof NKeysError) return false;
    throw err;
  }
}

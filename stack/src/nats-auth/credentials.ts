import { decode, fmtCreds, type ClaimsData, type User } from '@nats-io/jwt';
import { fromSeed } from '@nats-io/nkeys';
import { credsAuthenticator, type Authenticator } from '@nats-io/transport-node';

/** A NATS user as a `.creds` file holds it: the user's JWT and its nkey seed, in one text. */
export type CredentialsText = string;

export class InvalidCredentialsError extends Error {
  constructor(reason: string) {
    super(`not NATS user credentials: ${reason}`);
    this.name = 'InvalidCredentialsError';
  }
}

const BLOCK = /-{3,}BEGIN ([A-Z ]+)-{3,}\s*\n\s*(\S+)\s*\n\s*-{3,}END \1-{3,}/g;

/**
 * Reads a `.creds` text: the JWT must carry a valid signature and the seed must be the JWT's
 * user. The reasons never quote the text, which holds a secret.
 */
export function parseCredentials(text: string): { jwt: string; seed: string; claims: ClaimsData<User> } {
  const blocks = new Map([...text.matchAll(BLOCK)].map((m) => [m[1]!, m[2]!]));
  const jwt = blocks.get('NATS USER JWT');
  const seed = blocks.get('USER NKEY SEED');
  if (!jwt || !seed) throw new InvalidCredentialsError('expected a user JWT and a user nkey seed');
  let claims: ClaimsData<User>;
  try {
    claims = decode<User>(jwt);
  } catch (err) {
    throw new InvalidCredentialsError(`the JWT does not decode (${(err as Error).message})`);
  }
  let user: string;
  try {
    user = fromSeed(new TextEncoder().encode(seed)).getPublicKey();
  } catch {
    throw new InvalidCredentialsError('the seed is not an nkey seed');
  }
  if (user !== claims.sub) throw new InvalidCredentialsError("the seed is not the JWT's user");
  return { jwt, seed, claims };
}

/** The account a user belongs to: the account that signed it, directly or via a signing key. */
export function accountOfCredentials(text: CredentialsText): string {
  const { claims } = parseCredentials(text);
  return claims.nats.issuer_account ?? claims.iss;
}

export function formatCredentials(jwt: string, seed: string): CredentialsText {
  return new TextDecoder().decode(fmtCreds(jwt, fromSeed(new TextEncoder().encode(seed))));
}

/** For `connect({ authenticator })`. */
export function credentialsAuthenticator(text: CredentialsText): Authenticator {
  return credsAuthenticator(new TextEncoder().encode(text));
}

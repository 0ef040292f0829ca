import { credentialsAuthenticator } from '@deploysphere/stack/nats-auth';
import { connect, errors, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import type { NatsClientAuth } from '../config.js';

/** Connection options that authenticate as the user in `credentials` (a `.creds` text). */
export function natsAuthOptions(credentials: string, tlsCaFile?: string): Partial<ConnectionOptions> {
  return {
    authenticator: credentialsAuthenticator(credentials),
    ...(tlsCaFile ? { tls: { caFile: tlsCaFile } } : {}),
  };
}

/** True when the server refused the credentials themselves (unknown, badly signed, expired). */
export function isAuthRefusal(err: unknown): err is Error {
  return err instanceof errors.AuthorizationError || err instanceof errors.UserAuthenticationExpiredError;
}

/**
 * One connection per process, authenticated with the control plane's own user
 * (docs/nats-auth.md). It reconnects forever, so a restarted nats-server is picked up again.
 */
export async function connectNats(url: string, name: string, auth: NatsClientAuth): Promise<NatsConnection> {
  try {
    return await connect({
      servers: url,
      name,
      ...natsAuthOptions(auth.credentials, auth.tlsCaFile),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
  } catch (err) {
    if (!isAuthRefusal(err)) throw err;
    throw new Error(
      `NATS refused the control plane's credentials (NATS_CREDS_FILE): ${err.message}. ` +
        'Are they for the account this server preloads? See docs/nats-auth.md.',
      { cause: err },
    );
  }
}

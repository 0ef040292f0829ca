import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { GENERIC_HEADERS, type GitProvider } from '@deploysphere/contracts';

/** Request headers as Node gives them: lowercased names, a list for a repeated header. */
export type HeaderBag = Record<string, string | string[] | undefined>;

/** A header's value; a repeated header is refused as absent, since two values cannot both be right. */
export function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** The header that carries each provider's proof, as the provider names it. */
export const SIGNATURE_HEADER: Record<GitProvider, string> = {
  github: 'x-hub-signature-256',
  gitlab: 'x-gitlab-token',
  gitea: 'x-gitea-signature',
  generic: GENERIC_HEADERS.signature,
};

export type SignatureCheck = 'ok' | 'missing' | 'bad';

const hmacHex = (secret: string, body: Buffer) => createHmac('sha256', secret).update(body).digest();

/** Compares a presented hex digest with the expected bytes in constant time; malformed is a mismatch. */
function hexDigestMatches(presented: string, expected: Buffer): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(presented)) return false;
  return timingSafeEqual(Buffer.from(presented, 'hex'), expected);
}

/** Compares two strings through their digests, so neither length nor bytes leak through timing. */
function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Checks a delivery's proof against the raw body bytes, as each provider makes it:
 * - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`;
 * - GitLab: `X-Gitlab-Token: <the secret itself>` (GitLab signs nothing; the token is compared);
 * - Gitea and Forgejo: `X-Gitea-Signature: <hex HMAC-SHA256 of the body>`, no prefix;
 * - generic: `X-DeploySphere-Signature: sha256=<hex HMAC-SHA256 of the body>`.
 * Every comparison is constant-time. The body must be the bytes received, never re-serialised
 * JSON, which would differ in spacing or key order and fail (or, worse, pass for other bytes).
 */
export function verifySignature(
  provider: GitProvider,
  secret: string,
  headers: HeaderBag,
  body: Buffer,
): SignatureCheck {
  const presented = header(headers, SIGNATURE_HEADER[provider]);
  if (presented === undefined || presented === '') return 'missing';
  switch (provider) {
    case 'github':
    case 'generic': {
      const match = /^sha256=(.*)$/i.exec(presented);
      return match && hexDigestMatches(match[1]!, hmacHex(secret, body)) ? 'ok' : 'bad';
    }
    case 'gitea':
      return hexDigestMatches(presented, hmacHex(secret, body)) ? 'ok' : 'bad';
    case 'gitlab':
      return tokenMatches(presented, secret) ? 'ok' : 'bad';
  }
}

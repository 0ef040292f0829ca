import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, URL-safe: API tokens, session and invitation secrets. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * What is stored for a high-entropy secret. SHA-256 suffices (a slow hash protects guessable
 * passwords, and these are not guessable), and it lets a token be found by its hash.
 */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * 24 random base-36 characters (~124 bits). Lowercase alphanumerics only, so an id prefix is a
 * valid DNS label (deployment hosts) and a valid NATS subject token.
 */
export function newId(): string {
  const bytes = randomBytes(24);
  let id = '';
  // 252 = 7 × 36: rejecting bytes above it keeps every character equally likely.
  for (let i = 0; id.length < 24; i++) {
    const b = i < bytes.length ? bytes[i]! : randomBytes(1)[0]!;
    if (b < 252) id += ALPHABET[b % 36];
  }
  return id;
}

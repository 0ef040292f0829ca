import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './password-hash.js';

describe('password hashes', () => {
  it('verify the password they were made from, and nothing else', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('salt each hash', async () => {
    expect(await hashPassword('same password here')).not.toBe(await hashPassword('same password here'));
  });

  it('refuse malformed or absurd stored values instead of throwing or hashing for ever', async () => {
    for (const stored of ['', 'scrypt$1$2$3', 'bcrypt$1$2$3$4$5', 'scrypt$1099511627776$8$1$AAAA$AAAA'])
      expect(await verifyPassword('x', stored)).toBe(false);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EnvCipher } from './env-cipher.js';

describe('EnvCipher', () => {
  const cipher = new EnvCipher(randomBytes(32));

  it('round-trips a value and never stores it in the clear', () => {
    const sealed = cipher.encrypt('prj1', 'API_KEY', 'hunter2-secret');
    expect(sealed).not.toContain('hunter2');
    expect(cipher.decrypt('prj1', 'API_KEY', sealed)).toBe('hunter2-secret');
  });

  it('uses a fresh IV each time', () => {
    expect(cipher.encrypt('p', 'K', 'v')).not.toBe(cipher.encrypt('p', 'K', 'v'));
  });

  it('refuses a ciphertext moved to another project or variable, or under another key', () => {
    const sealed = cipher.encrypt('prj1', 'API_KEY', 'x');
    expect(() => cipher.decrypt('prj2', 'API_KEY', sealed)).toThrow();
    expect(() => cipher.decrypt('prj1', 'OTHER', sealed)).toThrow();
    expect(() => new EnvCipher(randomBytes(32)).decrypt('prj1', 'API_KEY', sealed)).toThrow();
  });
});

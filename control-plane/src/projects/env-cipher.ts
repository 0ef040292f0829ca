import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/**
 * Encrypts project env values at rest with AES-256-GCM. The project id and key name are bound
 * in as associated data, so a ciphertext copied to another project or variable fails to decrypt.
 */
export class EnvCipher {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('EnvCipher needs a 32-byte key');
  }

  encrypt(projectId: string, name: string, value: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`${projectId}\0${name}`));
    const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return [
      VERSION,
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      data.toString('base64'),
    ].join(':');
  }

  decrypt(projectId: string, name: string, sealed: string): string {
    const [version, iv, tag, data] = sealed.split(':');
    if (version !== VERSION || !iv || !tag || data === undefined)
      throw new Error('unknown env ciphertext format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(`${projectId}\0${name}`));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  }
}

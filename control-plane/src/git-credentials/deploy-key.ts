import { generateKeyPairSync, randomBytes } from 'node:crypto';

/** An SSH key pair in OpenSSH's own formats. */
export interface DeployKey {
  /** `ssh-ed25519 AAAA… <comment>`: what the user pastes into the provider. */
  publicKey: string;
  /** `-----BEGIN OPENSSH PRIVATE KEY-----`: what the clone's ssh reads, unencrypted. */
  privateKey: string;
}

const sshString = (value: Buffer | string): Buffer => {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
};
const uint32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/**
 * A fresh ed25519 key pair, written in the openssh-key-v1 format (PROTOCOL.key in OpenSSH's
 * sources) by hand, in memory: no ssh-keygen process, and the private key never touches a disk
 * of the control plane. `comment` names the key in the provider's list.
 */
export function generateDeployKey(comment: string): DeployKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const type = 'ssh-ed25519';
  const pubBlob = Buffer.concat([sshString(type), sshString(pub)]);

  const check = randomBytes(4).readUInt32BE();
  let priv = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString(type),
    sshString(pub),
    // OpenSSH keeps the 32-byte seed followed by the public key
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);

  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(pubBlob),
    sshString(priv),
  ]);
  const b64 = body
    .toString('base64')
    .match(/.{1,70}/g)!
    .join('\n');
  return {
    publicKey: `${type} ${pubBlob.toString('base64')} ${comment}`,
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`,
  };
}

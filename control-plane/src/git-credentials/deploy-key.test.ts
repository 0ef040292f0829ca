import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDeployKey } from './deploy-key.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('generateDeployKey', () => {
  it('writes a key OpenSSH reads: ssh-keygen derives the same public key from the private one', async () => {
    const key = generateDeployKey('deploysphere-site');
    expect(key.publicKey).toMatch(/^ssh-ed25519 [A-Za-z0-9+/]+=* deploysphere-site$/);
    const dir = await mkdtemp(join(tmpdir(), 'ds-key-'));
    dirs.push(dir);
    await writeFile(join(dir, 'id'), key.privateKey, { mode: 0o600 });
    const { stdout } = await run('ssh-keygen', ['-y', '-f', join(dir, 'id')]);
    expect(stdout.trim().split(' ').slice(0, 2)).toEqual(key.publicKey.split(' ').slice(0, 2));
  });

  it('makes a new key each time', () => {
    expect(generateDeployKey('a').publicKey).not.toBe(generateDeployKey('a').publicKey);
  });
});

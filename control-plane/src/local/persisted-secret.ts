import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A secret generated on the first start and kept (mode 0600) in DATA_DIR, so restarts keep using
 * it: the admin API token, and the key that encrypts project env values at rest.
 */
export async function persistedSecret(
  dataDir: string,
  file: string,
  generate: () => string,
): Promise<string> {
  const path = join(dataDir, file);
  try {
    const existing = (await readFile(path, 'utf8')).trim();
    if (existing !== '') return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = generate();
  await writeFile(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}

export const generateAdminToken = () => `dsk_${randomBytes(24).toString('base64url')}`;
export const generateEncryptionKey = () => randomBytes(32).toString('base64');
/** Signs protected hosts' grants and cookies; shared by the control plane and the edge. */
export const generateProtectionKey = () => randomBytes(32).toString('base64url');

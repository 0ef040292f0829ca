import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface LockPackages {
  packages?: Record<string, { version?: string; resolved?: string; integrity?: string; link?: boolean }>;
}

/**
 * After an exact cache hit, whether the restored node_modules already is what `npm ci` would
 * produce: npm's own record of the installed tree (node_modules/.package-lock.json, written by
 * the install that the cache was saved from) lists the same packages, at the same versions and
 * integrities, as the committed lockfile. Then the install is skipped. The key already matched
 * the lockfile's bytes, Node and platform; this checks that node_modules came back whole.
 */
export async function npmTreeMatchesLockfile(projectDir: string, lockfile: string): Promise<boolean> {
  try {
    // The project's own install-time scripts may write outside node_modules (generated code):
    // npm must run them, so such a project always gets its install.
    const pkg = JSON.parse(await readFile(join(projectDir, 'package.json'), 'utf8')) as {
      scripts?: Record<string, unknown>;
    };
    if (['preinstall', 'install', 'postinstall', 'prepare'].some((s) => pkg.scripts?.[s] !== undefined))
      return false;
    const lock = JSON.parse(await readFile(lockfile, 'utf8')) as LockPackages;
    const hidden = JSON.parse(
      await readFile(join(projectDir, 'node_modules', '.package-lock.json'), 'utf8'),
    ) as LockPackages;
    if (!lock.packages || !hidden.packages) return false;
    const wanted = Object.entries(lock.packages).filter(([path]) => path.startsWith('node_modules/'));
    if (wanted.length === 0) return false;
    for (const [path, entry] of wanted) {
      const installed = hidden.packages[path];
      // Optional dependencies for other platforms are in the lockfile but never installed.
      if (!installed) {
        if ((entry as { optional?: boolean }).optional) continue;
        return false;
      }
      if (installed.version !== entry.version || installed.integrity !== entry.integrity) return false;
    }
    return true;
  } catch {
    return false;
  }
}

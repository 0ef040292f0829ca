import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { npmTreeMatchesLockfile } from './installed-check.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function project(lock: object, hidden: object | null, scripts: object = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'bw-tree-'));
  dirs.push(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'p', scripts }));
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify(lock));
  if (hidden) {
    await mkdir(join(dir, 'node_modules'), { recursive: true });
    await writeFile(join(dir, 'node_modules', '.package-lock.json'), JSON.stringify(hidden));
  }
  return npmTreeMatchesLockfile(dir, join(dir, 'package-lock.json'));
}

const a = { version: '1.0.0', integrity: 'sha512-a' };
const lock = { packages: { '': {}, 'node_modules/a': a, 'node_modules/x-win32': { ...a, optional: true } } };

describe('npmTreeMatchesLockfile', () => {
  it('accepts the tree npm recorded for this lockfile (other platforms optional packages absent)', async () => {
    expect(await project(lock, { packages: { 'node_modules/a': a } })).toBe(true);
  });
  it('refuses a missing, different or absent tree', async () => {
    expect(await project(lock, null)).toBe(false);
    expect(await project(lock, { packages: {} })).toBe(false);
    expect(await project(lock, { packages: { 'node_modules/a': { ...a, integrity: 'sha512-b' } } })).toBe(
      false,
    );
    expect(await project({ packages: { '': {} } }, { packages: {} })).toBe(false);
  });
  it("refuses when the project's own install scripts must run", async () => {
    expect(await project(lock, { packages: { 'node_modules/a': a } }, { postinstall: 'node gen.js' })).toBe(
      false,
    );
  });
});

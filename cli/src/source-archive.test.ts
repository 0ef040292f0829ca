import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { list } from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Output } from './output.js';
import { listSource, packSource } from './source-archive.js';

const run = promisify(execFile);
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cli-source-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function tree(files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

/** What Git would add: untracked files not ignored, as `git ls-files --others --exclude-standard`. */
async function gitWouldAdd(): Promise<string[]> {
  await run('git', ['init', '-q'], { cwd: root });
  const { stdout } = await run('git', ['ls-files', '--others', '--exclude-standard', '-z'], { cwd: root });
  return stdout
    .split('\0')
    .filter((p) => p !== '')
    .sort();
}

const sink = { write: () => true } as unknown as NodeJS.WritableStream;
const quiet = () => new Output({ json: true, debug: false, stdout: sink, stderr: sink });

describe('listSource', () => {
  it('lists exactly what Git would add: nested .gitignore files, negations, anchored and folder patterns', async () => {
    await tree({
      '.gitignore': '*.log\n/build\ncache/\n!important.log\ntmp*\n',
      'index.html': 'x',
      'debug.log': 'x',
      'important.log': 'x',
      'build/out.js': 'x',
      'src/build/keep.js': 'x',
      'src/cache/x.bin': 'x',
      'src/.gitignore': '!*.log\nsecret.*\n',
      'src/app.log': 'x',
      'src/secret.key': 'x',
      'src/deep/secret.txt': 'x',
      'src/deep/.gitignore': '!secret.txt\n',
      tmpfile: 'x',
      'a/b/c/d.txt': 'x',
      'a/.gitignore': 'b/c/\n',
      'spaces in name.txt': 'x',
    });
    const listed = (await listSource(root)).paths;
    expect(listed).toEqual(await gitWouldAdd());
    expect(listed).toContain('src/deep/secret.txt');
    expect(listed).not.toContain('src/secret.key');
  });

  it('leaves out .git, .deploysphere and node_modules at any depth, and what .deploysphereignore names', async () => {
    await tree({
      'index.html': 'x',
      '.deploysphere/project.json': '{}',
      'node_modules/x/index.js': 'x',
      'packages/a/node_modules/y/index.js': 'x',
      'packages/a/index.js': 'x',
      '.deploysphereignore': 'docs/\n*.psd\n',
      'docs/readme.md': 'x',
      'art.psd': 'x',
      '.gitignore': '!art.psd\n',
    });
    expect((await listSource(root)).paths).toEqual([
      '.deploysphereignore',
      '.gitignore',
      'index.html',
      'packages/a/index.js',
    ]);
  });

  it('keeps symlinks inside the folder as symlinks, leaves out those that leave it', async () => {
    await tree({ 'src/index.html': 'x' });
    await symlink('src', join(root, 'inside'));
    await symlink('/etc/passwd', join(root, 'passwd'));
    await symlink('../..', join(root, 'src/up'));
    const listing = await listSource(root);
    expect(listing.paths).toEqual(['inside', 'src/index.html']);
    expect(listing.skippedLinks.sort()).toEqual(['passwd', 'src/up']);
    const packed = await packSource(listing, join(root, '..', `${root.split('/').pop()}.tar.gz`), quiet());
    const entries: { path: string; type: string; linkpath: string }[] = [];
    await list({
      file: packed.file,
      onReadEntry: (e) => entries.push({ path: e.path, type: e.type, linkpath: e.linkpath ?? '' }),
    });
    expect(entries).toEqual([
      { path: 'inside', type: 'SymbolicLink', linkpath: 'src' },
      { path: 'src/index.html', type: 'File', linkpath: '' },
    ]);
    expect(packed.sha256).toMatch(/^[0-9a-f]{64}$/);
    await rm(packed.file);
  });

  it('refuses more files than the limit, and an archive larger than the limit, naming the ignore file', async () => {
    await tree({ a: '1', b: '2', c: '3' });
    await expect(listSource(root, { maxFiles: 2, maxArchiveBytes: 1e9 })).rejects.toThrow(
      /more than 2 files to upload; list what the build does not need in \.deploysphereignore/,
    );
    const listing = await listSource(root);
    await expect(
      packSource(listing, join(root, '..', 'too-big.tar.gz'), quiet(), { maxFiles: 10, maxArchiveBytes: 10 }),
    ).rejects.toThrow(/more than the limit of 10/);
    await rm(join(root, '..', 'too-big.tar.gz'), { force: true });
  });
});

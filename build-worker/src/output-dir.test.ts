import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_SITE_FILE_BYTES } from '@deploysphere/contracts';
import { tempDir, writeTree } from '../test/helpers.js';
import { BuildError } from './build-error.js';
import { CollectingLogSink } from './log-sink.js';
import { collectOutputFiles, detectOutputDir } from './output-dir.js';

let root: string;
let checkout: string;
let outside: string;
const limits = { maxBytes: 1_000_000, maxFiles: 100 };

beforeEach(async () => {
  root = await tempDir('bw-output-');
  checkout = join(root, 'repo');
  outside = join(root, 'outside');
  await mkdir(checkout);
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'do not publish');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('detectOutputDir', () => {
  it('prefers a candidate with index.html, then the first existing one', async () => {
    await writeTree(checkout, { 'public/favicon.ico': 'x', 'build/index.html': 'b' });
    expect((await detectOutputDir(checkout, checkout, null)).relative).toBe('build');
    await rm(join(checkout, 'build'), { recursive: true });
    expect((await detectOutputDir(checkout, checkout, null)).relative).toBe('public');
    await writeTree(checkout, { 'dist/index.html': 'd' });
    expect((await detectOutputDir(checkout, checkout, null)).relative).toBe('dist');
  });

  it('uses the explicit directory, under the root directory', async () => {
    await writeTree(checkout, { 'site/app/out/index.html': 'x', 'dist/index.html': 'y' });
    const projectDir = join(checkout, 'site/app');
    expect((await detectOutputDir(checkout, projectDir, 'out/')).relative).toBe('out');
    await expect(detectOutputDir(checkout, checkout, 'missing')).rejects.toMatchObject({
      kind: 'output_missing',
    });
  });

  it('fails clearly when nothing is there', async () => {
    const err = await detectOutputDir(checkout, checkout, null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).message).toMatch(/No output directory found.*dist, build/);
  });

  it('rejects output directories that escape the checkout', async () => {
    await expect(detectOutputDir(checkout, checkout, '../outside')).rejects.toMatchObject({
      kind: 'invalid_input',
    });
    await expect(detectOutputDir(checkout, checkout, '/etc')).rejects.toMatchObject({
      kind: 'invalid_input',
    });
    await writeTree(checkout, { dist: { symlink: outside } });
    await expect(detectOutputDir(checkout, checkout, null)).rejects.toMatchObject({ kind: 'output_missing' });
  });
});

describe('collectOutputFiles', () => {
  it('lists files with site paths, skips rule files and follows only symlinks inside the checkout', async () => {
    await writeTree(checkout, {
      'dist/index.html': '<h1>hi</h1>',
      'dist/assets/app.js': 'console.log(1)',
      'dist/_redirects': '/a /b',
      'dist/_headers': '/*\n  X-A: b',
      'dist/nested/_redirects': 'served: not at the root',
      'dist/leak.txt': { symlink: join(outside, 'secret.txt') },
      'dist/leak-relative.txt': { symlink: '../../outside/secret.txt' },
      'dist/etc': { symlink: '/etc' },
      'dist/passwd': { symlink: '/etc/passwd' },
      'dist/broken': { symlink: 'nowhere' },
      'shared/logo.svg': '<svg/>',
      'dist/logo.svg': { symlink: '../shared/logo.svg' },
    });
    const logs = new CollectingLogSink();
    const output = await detectOutputDir(checkout, checkout, null);
    const files = await collectOutputFiles(checkout, output, limits, logs);
    expect(files.map((f) => f.path).sort()).toEqual([
      'assets/app.js',
      'index.html',
      'logo.svg',
      'nested/_redirects',
    ]);
    expect(files.find((f) => f.path === 'logo.svg')?.absolutePath).toMatch(/shared\/logo\.svg$/);
    const text = logs.text();
    expect(text).toContain('Skipping leak.txt: symlink points outside the repository');
    expect(text).toContain('Skipping leak-relative.txt: symlink points outside the repository');
    expect(text).toContain('Skipping passwd: symlink points outside the repository');
    expect(text).toContain('Skipping etc: symlink points outside the repository');
    expect(text).toContain('Skipping broken: broken symlink');
  });

  it('skips .git and node_modules when the output is the project itself', async () => {
    await writeTree(checkout, { 'index.html': 'x', '.git/config': 'x', 'node_modules/a/index.js': 'x' });
    const output = await detectOutputDir(checkout, checkout, '.');
    const files = await collectOutputFiles(checkout, output, limits, new CollectingLogSink());
    expect(files.map((f) => f.path)).toEqual(['index.html']);
  });

  it('enforces the file count and byte limits', async () => {
    await writeTree(
      checkout,
      Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`dist/f${i}.txt`, 'x'.repeat(100)])),
    );
    const output = await detectOutputDir(checkout, checkout, null);
    await expect(
      collectOutputFiles(checkout, output, { maxBytes: 1_000_000, maxFiles: 4 }, new CollectingLogSink()),
    ).rejects.toMatchObject({
      kind: 'output_too_large',
      message: expect.stringContaining('MAX_OUTPUT_FILES'),
    });
    await expect(
      collectOutputFiles(checkout, output, { maxBytes: 450, maxFiles: 100 }, new CollectingLogSink()),
    ).rejects.toMatchObject({
      kind: 'output_too_large',
      message: expect.stringContaining('MAX_OUTPUT_BYTES'),
    });
    expect(
      await collectOutputFiles(checkout, output, { maxBytes: 500, maxFiles: 5 }, new CollectingLogSink()),
    ).toHaveLength(5);
  });

  it("refuses a file over 25 MiB, Cloudflare Pages' limit, which the edge would not serve", async () => {
    await writeTree(checkout, { 'dist/index.html': 'x' });
    // Sparse: the size is real to the walk without writing 25 MiB.
    const big = await open(join(checkout, 'dist', 'video.mp4'), 'w');
    await big.truncate(MAX_SITE_FILE_BYTES + 1);
    await big.close();
    const output = await detectOutputDir(checkout, checkout, null);
    await expect(
      collectOutputFiles(
        checkout,
        output,
        { maxBytes: 10 * MAX_SITE_FILE_BYTES, maxFiles: 100 },
        new CollectingLogSink(),
      ),
    ).rejects.toMatchObject({ kind: 'output_too_large', message: expect.stringContaining('video.mp4') });
  });
});

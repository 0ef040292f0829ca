import { Blob } from 'node:buffer';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseHeaders, parseRedirects } from '@deploysphere/build-worker/site-rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFolder, manifestFiles as cliManifestFiles } from '../../../cli/src/folder.js';
import { Output } from '../../../cli/src/output.js';
import { listFolder, manifestFiles, sha256Hex, type DroppedFile } from './folder-listing.js';

// The drop must upload exactly what `deploysphere deploy --prebuilt <folder>` uploads: the same
// paths, hashes and content types, and the same rules. So the CLI's own listing and hashing run
// on a folder on disk, and this module on the same folder as a browser would hand it over (every
// file, relative paths, as Blobs), and the two manifests must be equal.

const FOLDER: Record<string, string | Buffer> = {
  'index.html': '<h1>home</h1>',
  'about/index.html': '<h1>about</h1>',
  'about/deep/nested/page.html': 'deep',
  'assets/app.js': 'console.log(1)',
  'assets/data.json': '{"a":1}',
  'assets/logo.svg': '<svg/>',
  'assets/photo.webp': Buffer.from([0, 1, 2, 3, 255]),
  'assets/unknown.weird-ext': 'x',
  'empty.txt': '',
  '.well-known/security.txt': 'Contact: x',
  '.hidden': 'dotfiles are uploaded',
  'sub/.git/config': 'only .git at the top is skipped',
  'sub/node_modules/x.js': 'only node_modules at the top is skipped',
  'sub/_redirects': 'not a rule below the top: a file',
  'sp ace/é.html': 'unicode',
  'bad\\name.txt': 'a backslash: no site path can carry it',
  '.git/HEAD': 'ref: refs/heads/main',
  'node_modules/dep/index.js': 'skipped',
  '.deploysphere/project.json': '{"v":1,"project":"x"}',
  _redirects: '/old /new 301\n/spa/* /index.html 200\nnonsense line here too many\n',
  _headers: '/*\n  X-Frame-Options: DENY\n/assets/*\n  Cache-Control: public, max-age=60\n',
};

let dir: string;

async function walk(root: string, at = root): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(at, { withFileTypes: true })) {
    const full = join(at, e.name);
    if (e.isDirectory()) out.push(...(await walk(root, full)));
    else out.push(relative(root, full));
  }
  return out;
}

/** The folder as a browser hands it over: every file, with its path relative to the folder. */
// node's Blob (jsdom's has no arrayBuffer()); a browser's File is a Blob with the same methods.
async function asDropped(root: string): Promise<DroppedFile<Blob>[]> {
  const paths = await walk(root);
  return Promise.all(
    paths.map(async (path) => ({ path, file: new Blob([await readFile(join(root, path))]) })),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drop-listing-'));
  for (const [path, body] of Object.entries(FOLDER)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), body);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the folder drop lists and hashes as the CLI does', () => {
  it('gives the same manifest files, redirects and headers as `deploysphere deploy` for the same folder', async () => {
    const out = new Output({
      json: true,
      debug: false,
      stdout: new PassThrough(),
      stderr: new PassThrough(),
    });
    const cli = await hashFolder(dir, out);

    const listing = listFolder(await asDropped(dir));
    const hashed = await Promise.all(
      listing.files.map(async (f) => ({ ...f, hash: await sha256Hex(f.file) })),
    );
    const warnings: string[] = [];
    const redirects = parseRedirects(await listing.rules._redirects!.text(), (m) => warnings.push(m));
    const headers = parseHeaders(await listing.rules._headers!.text(), (m) => warnings.push(m));

    expect(manifestFiles(hashed)).toEqual(cliManifestFiles(cli.files));
    expect(redirects).toEqual(cli.redirects);
    expect(headers).toEqual(cli.headers);
    expect(listing.bytes).toBe(cli.bytes);
    // What the comparison covers: skipped and kept paths both, so it cannot pass on an empty folder.
    const paths = Object.keys(manifestFiles(hashed));
    expect(paths).toContain('sub/_redirects');
    expect(paths).toContain('.hidden');
    expect(paths).not.toContain('.deploysphere/project.json');
    expect(paths.some((p) => p.startsWith('.git/') || p.startsWith('node_modules/'))).toBe(false);
    expect(listing.skipped).toEqual(['"bad\\\\name.txt": not a valid site path']);
    expect(redirects).toHaveLength(2);
    expect(warnings).toHaveLength(1);
  });

  it('hashes with Web Crypto to the sha256 hex the blobs are named by', async () => {
    expect(await sha256Hex(new Blob(['']))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(await sha256Hex(new Blob(['abc']))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('refuses a file over 25 MiB and takes the rule files only at the top', () => {
    const big = { size: 25 * 1024 * 1024 + 1 };
    const small = { size: 3 };
    const listing = listFolder([
      { path: 'big.bin', file: big },
      { path: '_redirects', file: small },
      { path: '_headers/inside.txt', file: small },
      { path: 'ok.txt', file: small },
    ]);
    expect(listing.tooLarge).toEqual([{ path: 'big.bin', size: big.size }]);
    expect(listing.rules).toEqual({ _redirects: small });
    expect(listing.files.map((f) => f.path)).toEqual(['big.bin', 'ok.txt']);
  });
});

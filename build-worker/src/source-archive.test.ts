import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { craftTarGz, type CraftedEntry } from '../test/tar-craft.js';
import { BuildError } from './build-error.js';
import { CollectingLogSink } from './log-sink.js';
import { findBwrap } from './sandbox.js';
import { extractInSandbox, fetchSourceArchive, type SourceSandbox } from './source-archive.js';

// The archive is served by a real HTTP server, as a presigned GET would be; what it serves is
// set per test (`served`), so a test can declare one sha256 and serve other bytes.
let server: Server;
let base: string;
let served: Buffer = Buffer.alloc(0);
let root: string;
let checkout: string;
let outside: string;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': served.length });
    res.end(served);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(async () => {
  root = await tempDir('bw-source-');
  // The checkout sits two levels down, so `..` and `../..` land in folders this test watches.
  checkout = join(root, 'build', 'repo');
  outside = join(root, 'build');
  await mkdir(outside, { recursive: true });
  return () => rm(root, { recursive: true, force: true });
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const bwrapPath = findBwrap();
/** Extraction in bubblewrap (as builds run here), or in-process when a test sets it undefined. */
let sandboxed = false;
const sandboxFor = (): SourceSandbox | undefined =>
  sandboxed && bwrapPath
    ? {
        mode: { kind: 'bwrap', bwrapPath },
        homeDir: join(root, 'build', 'home'),
        limits: { timeoutMs: 60_000, memoryMb: 2048, cpuSeconds: 60 },
      }
    : undefined;

async function fetchArchive(
  archive: Buffer,
  declared: { sha256?: string; size?: number } = {},
  limits?: { maxFiles: number; maxBytes: number },
) {
  const sandbox = sandboxFor();
  if (sandbox) await mkdir(sandbox.homeDir, { recursive: true });
  served = archive;
  const logs = new CollectingLogSink();
  return fetchSourceArchive({
    source: {
      kind: 'archive',
      get: { method: 'GET', url: `${base}/sources/x.tar.gz?X-Amz-Signature=abc`, headers: {} },
      sha256: declared.sha256 ?? sha256(archive),
      size: declared.size ?? archive.length,
    },
    dest: checkout,
    scratchDir: join(root, 'scratch'),
    logs,
    ...(limits ? { limits } : {}),
    sandbox,
  }).then((r) => ({ ...r, logs }));
}

async function refused(entries: CraftedEntry[], pattern: RegExp): Promise<void> {
  const err = await fetchArchive(craftTarGz(entries)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BuildError);
  expect((err as BuildError).message).toMatch(/^Source archive refused: /);
  expect((err as BuildError).message).toMatch(pattern);
  // Nothing was written next to the checkout, nor anywhere below the test's root but scratch.
  expect((await readdir(outside)).filter((n) => !['repo', 'home', 'sandbox-etc'].includes(n))).toEqual([]);
  expect(await readdir(root).then((n) => n.sort())).toEqual(['build', 'scratch']);
  expect(await readdir(join(root, 'scratch'))).toEqual([]);
}

describe.each([
  ['in the worker (node-tar)', false],
  ['in bubblewrap (GNU tar)', true],
])('fetchSourceArchive, extracting %s', (_how, inSandbox) => {
  beforeEach(() => {
    sandboxed = inSandbox;
  });

  it('extracts files, folders and symlinks inside the folder, and logs what it fetched', async () => {
    const archive = craftTarGz([
      { path: 'package.json', body: '{"name":"x"}' },
      { path: 'src/', type: 'Directory' },
      { path: 'src/index.html', body: '<h1>hi</h1>' },
      { path: 'src/tool.sh', body: 'echo hi', mode: 0o4755 },
      { path: 'docs', type: 'SymbolicLink', linkpath: 'src' },
    ]);
    const r = await fetchArchive(archive);
    expect(r).toMatchObject({ bytes: archive.length, entries: 5 });
    expect(await readFile(join(checkout, 'src/index.html'), 'utf8')).toBe('<h1>hi</h1>');
    expect(await readlink(join(checkout, 'docs'))).toBe('src');
    // No setuid bit survives; ownership is the worker's.
    const tool = await stat(join(checkout, 'src/tool.sh'));
    expect(tool.mode & 0o7000).toBe(0);
    expect(tool.uid).toBe(process.getuid?.());
    expect(r.logs.lines.some((l) => l.line.startsWith('Source: archive '))).toBe(true);
    // The downloaded archive is gone.
    expect(await readdir(join(root, 'scratch'))).toEqual([]);
  });

  it('refuses a path with ".."', () =>
    refused(
      [
        { path: 'ok.txt', body: 'x' },
        { path: '../escape', body: 'pwned' },
      ],
      /"\.\.\/escape" has a "\.\." segment/,
    ));

  it('refuses a ".." hidden in the middle of a path', () =>
    refused([{ path: 'a/../../escape', body: 'pwned' }], /has a "\.\." segment/));

  it('refuses an absolute path', () =>
    refused([{ path: `${outside}/abs.txt`, body: 'pwned' }], /is an absolute path/));

  it('refuses a symlink to a host file', () =>
    refused(
      [{ path: 'passwd', type: 'SymbolicLink', linkpath: '/etc/passwd' }],
      /points at an absolute path/,
    ));

  it('refuses a symlink out of the folder by "..", and a write through a symlink', async () => {
    await refused([{ path: 'up', type: 'SymbolicLink', linkpath: '../..' }], /points outside the folder/);
    await refused(
      [
        { path: 'sub/', type: 'Directory' },
        { path: 'in', type: 'SymbolicLink', linkpath: 'sub' },
        { path: 'in/file', body: 'through the link' },
      ],
      /"in\/file" lies below a symlink/,
    );
  });

  it('refuses a chain of symlinks that each look fine alone but end outside', () =>
    refused(
      [
        { path: 'a/b/', type: 'Directory' },
        { path: 'a/b/s', type: 'SymbolicLink', linkpath: '../..' },
        { path: 'a/b/t', type: 'SymbolicLink', linkpath: 's/..' },
      ],
      /symlink "a\/b\/t" resolves outside the folder/,
    ));

  it('refuses hard links, devices and FIFOs', async () => {
    await refused([{ path: 'h', type: 'Link', linkpath: '/etc/passwd' }], /is a Link/);
    await refused([{ path: 'd', type: 'CharacterDevice' }], /is a CharacterDevice/);
    await refused([{ path: 'f', type: 'FIFO' }], /is a FIFO/);
  });

  it('refuses other bytes than the sha256 declared, and more bytes than declared', async () => {
    const archive = craftTarGz([{ path: 'index.html', body: 'real' }]);
    const other = craftTarGz([{ path: 'index.html', body: 'swapped after upload' }]);
    const wrong = await fetchArchive(other, { sha256: sha256(archive), size: other.length }).catch(
      (e: unknown) => e,
    );
    expect((wrong as BuildError).message).toMatch(
      /its sha256 is [0-9a-f]{64}, not the [0-9a-f]{64} declared/,
    );
    const larger = await fetchArchive(other, { sha256: sha256(other), size: other.length - 1 }).catch(
      (e: unknown) => e,
    );
    expect((larger as BuildError).message).toMatch(/larger than the \d+ bytes declared/);
    await expect(lstat(join(checkout, 'index.html'))).rejects.toThrow();
  });

  it('refuses more entries or bytes than its limits, and what is not a gzipped tar', async () => {
    const three = craftTarGz([
      { path: 'a', body: '1' },
      { path: 'b', body: '2' },
      { path: 'c', body: '3' },
    ]);
    const many = await fetchArchive(three, {}, { maxFiles: 2, maxBytes: 100 }).catch((e: unknown) => e);
    expect((many as BuildError).message).toMatch(/more than 2 entries/);
    const big = await fetchArchive(three, {}, { maxFiles: 10, maxBytes: 2 }).catch((e: unknown) => e);
    expect((big as BuildError).message).toMatch(/more than 2 bytes once extracted/);
    await writeFile(join(root, 'junk'), 'x');
    const junk = await fetchArchive(Buffer.from('not a tarball at all')).catch((e: unknown) => e);
    expect((junk as BuildError).message).toMatch(/not a readable gzipped tar/);
  });
});

describe.runIf(bwrapPath !== null)('extractInSandbox', () => {
  it('cannot write outside the checkout even through a symlink, had the header checks let one by', async () => {
    const home = join(root, 'build', 'home');
    await mkdir(home, { recursive: true });
    await mkdir(checkout, { recursive: true });
    const target = join(root, 'target');
    await mkdir(target);
    const file = join(root, 'hostile.tar.gz');
    await writeFile(
      file,
      craftTarGz([
        { path: 'out', type: 'SymbolicLink', linkpath: target },
        { path: 'out/pwned.txt', body: 'written through the link' },
      ]),
    );
    const err = await extractInSandbox(
      file,
      checkout,
      {
        mode: { kind: 'bwrap', bwrapPath: bwrapPath! },
        homeDir: home,
        limits: { timeoutMs: 60_000, memoryMb: 2048, cpuSeconds: 60 },
      },
      new CollectingLogSink(),
    ).catch((e: unknown) => e);
    // The host folder the link names does not exist in the sandbox: tar fails, the host's is untouched.
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).message).toMatch(/^The source extraction command "tar/);
    expect(await readdir(target)).toEqual([]);
    expect(await readdir(home)).toEqual([]);
  });
});
